import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPromTelemetry } from '../../src/adapters/telemetry/prom-telemetry.ts';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import type { TestAppContext } from '../support/app-context.ts';
import { series, type SeriesResponse } from '../../src/app/query/series.ts';
import { pullDepsOf } from '../../src/sources/pull-job.ts';
import { bindJobs } from '../../src/worker/bind-jobs.ts';
import { pullSources } from '../../src/sources/pull-sources.ts';
import { sourceConfigSchema, type SourceConfig } from '../../src/sources/source-config.ts';
import { createAggregationContext, ENGINES, type AggregationTestContext } from '../aggregation/support.ts';
import { freePort, startTestCluster, type TestCluster } from '../support/pg-cluster.ts';

/**
 * Snapshot queries (seed 004) record one gauge per period on an injected clock; a source whose
 * database is down (a closed port; a test-owned cluster stopped under an open pool) reports the
 * error without stopping the other sources, and recovers when its database is back.
 */

const T0 = Date.parse('2026-11-20T10:15:00Z');
const MINUTE = 60_000;

describe.each(ENGINES)('snapshots and outages with %s storage', (engine) => {
  let t: AggregationTestContext;
  let ctx: TestAppContext;
  let cluster: TestCluster;
  let admin: pg.Client;
  const telemetry = createPromTelemetry({ processMetrics: false });
  let closedPortUrl: string;

  const configure = (sources: unknown[]) => {
    const parsed: SourceConfig[] = sources.map((source) => sourceConfigSchema.parse(source));
    ctx = { ...t.ctx, telemetry, config: Object.freeze({ ...t.ctx.config, sources: parsed }) };
    telemetry.watchSources(() => ctx.sources.state.listStatus());
  };
  const appSource = () => ({
    name: 'app',
    kind: 'postgres',
    url: cluster.url,
    org: 'acme',
    snapshots: [
      { name: 'total_users', sql: 'SELECT count(*) AS value FROM app_users', every: '1h', unit: 'users', category: 'users' },
      { name: 'storage_bytes', sql: 'SELECT coalesce(sum(bytes), 0) AS value FROM media', every: '1d', unit: 'bytes', category: 'storage' },
    ],
  });
  const tenantsSource = () => ({
    name: 'tenants',
    kind: 'postgres',
    url: cluster.url,
    orgs: { t1: 'acme', t2: 'globex' },
    snapshots: [{ name: 'users_per_tenant', sql: 'SELECT tenant AS org, count(*) AS value FROM app_users GROUP BY tenant', every: '1d' }],
  });
  const gauges = async (orgId: string) =>
    (await ctx.storage.scanEvents({ orgId, from: 0, to: T0 + 30 * 24 * 60 * MINUTE, types: ['gauge'] }))
      .map((event) => ({ name: event.attrs['name'], value: event.attrs['value'], at: new Date(event.ts).toISOString() }))
      .sort((a, b) => a.at.localeCompare(b.at) || String(a.name).localeCompare(String(b.name)));
  const addUsers = (tenant: string, count: number) =>
    admin.query('INSERT INTO app_users (tenant) SELECT $1 FROM generate_series(1, $2)', [tenant, count]);
  const pullAll = () => pullSources(pullDepsOf(ctx), { force: true });

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: T0 });
    for (const id of ['acme', 'globex']) await t.ctx.storage.createOrg({ id, name: id, timezone: 'UTC' }, T0);
    cluster = await startTestCluster();
    admin = new pg.Client({ connectionString: cluster.url });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query('CREATE TABLE app_users (id serial PRIMARY KEY, tenant text NOT NULL)');
    await admin.query('CREATE TABLE media (id serial PRIMARY KEY, bytes bigint NOT NULL)');
    await admin.query('INSERT INTO media (bytes) VALUES (1000), (2500)');
    closedPortUrl = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
  }, 120_000);

  afterAll(async () => {
    await ctx?.sources.connector.close();
    await admin?.end().catch(() => undefined);
    await cluster?.destroy();
    await t?.close();
  });

  it('records each snapshot once per period, on its own schedule', async () => {
    configure([appSource(), tenantsSource()]);
    await addUsers('t1', 3);
    await addUsers('t2', 2);
    let results = await pullAll();
    expect(results.map((r) => [r.source, r.ok, r.snapshots])).toEqual([['app', true, 2], ['tenants', true, 1]]);

    // Same hour, more users: nothing new (one reading per period, and a re-run would be a duplicate).
    await addUsers('t1', 2);
    t.clock.set(T0 + 10 * MINUTE);
    results = await pullAll();
    expect(results.map((r) => r.snapshots)).toEqual([0, 0]);

    // Next hour: the hourly snapshot reads again; the daily ones wait for the next day.
    t.clock.set(Date.parse('2026-11-20T11:05:00Z'));
    results = await pullAll();
    expect(results.map((r) => r.snapshots)).toEqual([1, 0]);
    await admin.query('INSERT INTO media (bytes) VALUES (500)');
    t.clock.set(Date.parse('2026-11-21T00:02:00Z'));
    results = await pullAll();
    expect(results.map((r) => r.snapshots)).toEqual([2, 1]);

    expect(await gauges('acme')).toEqual([
      { name: 'storage_bytes', value: 3500, at: '2026-11-20T10:15:00.000Z' },
      { name: 'total_users', value: 5, at: '2026-11-20T10:15:00.000Z' },
      { name: 'users_per_tenant', value: 3, at: '2026-11-20T10:15:00.000Z' },
      { name: 'total_users', value: 7, at: '2026-11-20T11:05:00.000Z' },
      { name: 'storage_bytes', value: 4000, at: '2026-11-21T00:02:00.000Z' },
      { name: 'total_users', value: 7, at: '2026-11-21T00:02:00.000Z' },
      { name: 'users_per_tenant', value: 5, at: '2026-11-21T00:02:00.000Z' },
    ]);
    expect(await gauges('globex')).toEqual([
      { name: 'users_per_tenant', value: 2, at: '2026-11-20T10:15:00.000Z' },
      { name: 'users_per_tenant', value: 2, at: '2026-11-21T00:02:00.000Z' },
    ]);

    // The gauges are metrics like any other once aggregated: last reading per bucket (the test
    // catalog declares `users.total` over the `total_users` gauge; storage_bytes is discovered).
    await aggregateDirtyBuckets(ctx);
    const hourly = async (metric: string) => {
      const response = await series(ctx, { orgId: 'acme', start: '2026-11-20T10:00:00Z', end: '2026-11-20T12:00:00Z', granularity: 'hour', metric, refresh: true });
      return (JSON.parse(response.body.toString('utf8')) as SeriesResponse).series[0]!.data.map((point) => point.value);
    };
    expect(await hourly('users.total')).toEqual([5, 7]);
    expect(await hourly('storage_bytes')).toEqual([3500, 0]);
  });

  it('reports a source whose database is down, keeps pulling the others, and recovers', async () => {
    configure([{ ...appSource(), name: 'app' }, { name: 'down', kind: 'postgres', url: closedPortUrl, org: 'acme', snapshots: appSource().snapshots }]);
    t.clock.set(Date.parse('2026-11-21T01:05:00Z'));
    let results = await pullAll();
    expect(results.map((r) => [r.source, r.ok])).toEqual([['app', true], ['down', false]]);
    expect(results[1]!.error).toMatch(/ECONNREFUSED/);

    // The app database goes away under an open pool (its idle connections are cut).
    await cluster.stop();
    t.clock.set(Date.parse('2026-11-21T02:05:00Z'));
    results = await pullAll();
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    let statuses = new Map((await ctx.sources.state.listStatus()).map((s) => [s.source, s]));
    expect(statuses.get('app')).toMatchObject({ consecutiveFailures: 1, lastSuccessAt: Date.parse('2026-11-21T01:05:00Z'), lastErrorAt: Date.parse('2026-11-21T02:05:00Z') });
    // The pool's connections were cut with the server; the pull's new connection is refused.
    expect(statuses.get('app')!.lastError).toBe(`connect ECONNREFUSED 127.0.0.1:${cluster.port}`);
    expect(results[0]!.error).toBe(statuses.get('app')!.lastError);
    expect(statuses.get('down')).toMatchObject({ consecutiveFailures: 2, lastSuccessAt: null });
    const metrics = await telemetry.render();
    expect(metrics).toMatch(/meterboard_source_errors_total\{source="app"\} 1/);
    expect(metrics).toMatch(/meterboard_source_errors_total\{source="down"\} 2/);
    // Lag and failure streak come from the database at scrape time (the puller may be another process).
    expect(metrics).toMatch(/meterboard_source_consecutive_failures\{source="app"\} 1\n/);
    expect(metrics).toMatch(/meterboard_source_consecutive_failures\{source="down"\} 2\n/);
    expect(metrics).toMatch(/meterboard_source_last_success_timestamp_seconds\{source="app"\} 1795223100\n/);
    expect(metrics).toMatch(/meterboard_source_lag_seconds\{source="app"\} \d+/);
    expect(metrics).not.toMatch(/meterboard_source_lag_seconds\{source="down"\}/);

    // Back up: the next pull succeeds and records the hour it missed from then on.
    await cluster.start();
    t.clock.set(Date.parse('2026-11-21T02:10:00Z'));
    results = await pullSources(pullDepsOf(ctx), { name: 'app' });
    expect(results).toMatchObject([{ source: 'app', ok: true, snapshots: 1 }]);
    statuses = new Map((await ctx.sources.state.listStatus()).map((s) => [s.source, s]));
    expect(statuses.get('app')).toMatchObject({ consecutiveFailures: 0, lastSuccessAt: Date.parse('2026-11-21T02:10:00Z') });
    expect((await gauges('acme')).filter((g) => g.name === 'total_users').at(-1)).toEqual({ name: 'total_users', value: 7, at: '2026-11-21T02:10:00.000Z' });
  }, 60_000);

  it('the scheduled job pulls only the sources whose every has passed', async () => {
    configure([{ ...appSource(), every: '5m' }, { ...tenantsSource(), every: '1h' }]);
    const bound = bindJobs(ctx).find((candidate) => candidate.name === 'sources-pull')!;
    expect(bound.schedule).toEqual({ everyMs: 60_000 });
    const job = () => bound.run(bound.parsePayload({}));
    const unconfigured = bindJobs({ ...t.ctx, config: Object.freeze({ ...t.ctx.config, sources: [] }) }).find((candidate) => candidate.name === 'sources-pull')!;
    expect(await unconfigured.run(unconfigured.parsePayload({}))).toEqual([]);
    t.clock.set(Date.parse('2026-11-21T03:00:00Z'));
    // app was last pulled at 02:10, tenants at 00:02: both are due.
    expect(((await job()) as Array<{ source: string }>).map((r) => r.source)).toEqual(['app', 'tenants']);
    t.clock.set(Date.parse('2026-11-21T03:04:00Z'));
    expect(await job()).toEqual([]);
    t.clock.set(Date.parse('2026-11-21T03:05:00Z'));
    expect(((await job()) as Array<{ source: string }>).map((r) => r.source)).toEqual(['app']);
    expect(() => bound.parsePayload({ name: 3 })).toThrow(/name/);
  });
});
