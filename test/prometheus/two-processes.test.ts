import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_ADMIN_KEY, freePort, runCli, waitUntil, type CliProcess } from '../fault/support.ts';
import { probePostgres, TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';

/**
 * Job health across real OS processes (issue 12): `meterboard serve` and `meterboard worker`
 * run from the compiled build (`npm run build` first) on one PostgreSQL schema and one Redis
 * database of this test's own. The worker aggregates and shows its pass on its own /metrics
 * (WORKER_PORT); the serve process never aggregates, yet its last-success gauge is recent and
 * both report the same aggregation backlog and SQL-source lag, because they read them from the
 * database. A third process, `meterboard sources pull`, pulls the source once.
 */

const available = await probePostgres();
const REDIS_BASE = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** This file's Redis database (no other test uses it); only the keys meterboard writes are removed. */
const REDIS_DB = 9;
const HOUR = 3_600_000;

function sample(text: string, name: string, labels = ''): number | undefined {
  const escaped = `${name}${labels}`.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

async function deleteRedisKeys(url: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for (const pattern of ['bull:*', 'meterboard:cache:*']) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

async function sql(statement: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement, values);
  } finally {
    await client.end();
  }
}

describe.runIf(available)('job health with `serve` and `worker` as two OS processes', () => {
  const schema = uniqueSchemaName('twoproc');
  const sourceSchema = uniqueSchemaName('twoproc_src');
  const redisUrl = `${REDIS_BASE.replace(/\/\d*$/, '')}/${REDIS_DB}`;
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-twoproc-'));
  const org = 'twoproc-acme';
  /** The source's rows go to an organization of their own, so a pull by the worker never changes the numbers checked for `org`. */
  const sourceOrg = 'twoproc-app';
  const processes: CliProcess[] = [];
  let env: Record<string, string>;
  let serveBase: string;
  let workerBase: string;
  let serve: CliProcess;
  let worker: CliProcess;
  const headers = { authorization: `Bearer ${FAULT_ADMIN_KEY}`, 'content-type': 'application/json' };
  const metricsOf = async (base: string) => (await fetch(`${base}/metrics`)).text();

  beforeAll(async () => {
    await sql(`CREATE SCHEMA ${schema}`);
    // The SQL source: a table of another application, in a schema of its own.
    await sql(`CREATE SCHEMA ${sourceSchema}`);
    await sql(`CREATE TABLE ${sourceSchema}.jobs (id text PRIMARY KEY, created_at timestamptz NOT NULL, pages int NOT NULL)`);
    await sql(`INSERT INTO ${sourceSchema}.jobs SELECT 'j' || i, now() - (i || ' minutes')::interval, i FROM generate_series(1, 5) AS i`);
    writeFileSync(
      join(dir, 'meterboard.config.json'),
      JSON.stringify({
        sources: [{ name: 'app', kind: 'postgres', url: TEST_DATABASE_URL, schema: sourceSchema, org: sourceOrg, tables: [{ table: 'jobs', event: 'page_usage', attributes: { pages: 'pages' } }] }],
      }),
    );
    const [servePort, workerPort] = [await freePort(), await freePort()];
    serveBase = `http://127.0.0.1:${servePort}`;
    workerBase = `http://127.0.0.1:${workerPort}`;
    env = {
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      REDIS_URL: redisUrl,
      HOST: '127.0.0.1',
      PORT: String(servePort),
      WORKER_PORT: String(workerPort),
      ADMIN_KEY: FAULT_ADMIN_KEY,
      AGGREGATE_EVERY: '1s',
      DATA_DIR: dir,
      CONFIG_FILE: join(dir, 'meterboard.config.json'),
    };
    await deleteRedisKeys(redisUrl);
    serve = runCli(['serve'], env);
    processes.push(serve);
    await waitUntil(async () => (await fetch(`${serveBase}/health`)).ok, 'serve to answer /health', 90_000, serve);
  }, 120_000);

  afterAll(async () => {
    for (const child of processes) await child.stop();
    await deleteRedisKeys(redisUrl).catch(() => undefined);
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await sql(`DROP SCHEMA IF EXISTS ${sourceSchema} CASCADE`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the backlog shows on serve before a worker runs; the worker aggregates and both report it, the source lag too', async () => {
    for (const id of [org, sourceOrg]) expect((await fetch(`${serveBase}/api/v1/orgs`, { method: 'POST', headers, body: JSON.stringify({ id }) })).status).toBe(201);
    const now = Date.now();
    // Oldest event 3 hours (+ 10 min) back: its hour ended more than 2 hours ago.
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, type: 'page_usage', timestamp: new Date(now - 10 * 60_000 - (i % 4) * HOUR).toISOString(), pages: i + 1 }));
    const ingested = await fetch(`${serveBase}/api/v1/events?org=${org}`, { method: 'POST', headers, body: JSON.stringify(events) });
    expect(await ingested.json()).toMatchObject({ accepted: 40 });
    const oldestHourEnd = Math.floor((now - 10 * 60_000 - 3 * HOUR) / HOUR) * HOUR + HOUR;

    // No worker yet: serve has never seen a pass, and reports the waiting organization.
    const before = await metricsOf(serveBase);
    expect(sample(before, 'meterboard_aggregation_last_success_timestamp_seconds')).toBe(0);
    expect(sample(before, 'meterboard_aggregation_organizations_waiting')).toBe(1);
    const maxLag = sample(before, 'meterboard_aggregation_max_lag_seconds')!;
    const scrapedAt = Date.now();
    expect(maxLag).toBeGreaterThanOrEqual((now - oldestHourEnd) / 1000 - 1);
    expect(maxLag).toBeLessThanOrEqual((scrapedAt - oldestHourEnd) / 1000 + 1);
    expect(before).not.toContain(org);

    const started = Date.now() / 1000;
    worker = runCli(['worker'], env);
    processes.push(worker);
    // 40 events, plus the source's 5 rows if the worker's own `sources-pull` job ran already.
    await waitUntil(async () => (sample(await metricsOf(workerBase), 'meterboard_aggregation_records_processed_total') ?? 0) >= 40, "the worker's pass on its /metrics", 90_000, worker);
    // Both processes read the backlog from the database (the worker's first source pull may add one more pass).
    let drained: string[] = [];
    await waitUntil(
      async () => {
        drained = await Promise.all([metricsOf(serveBase), metricsOf(workerBase)]);
        return drained.every((text) => sample(text, 'meterboard_aggregation_organizations_waiting') === 0);
      },
      'no organization waiting, on both processes',
      90_000,
      worker,
    );
    for (const text of drained) expect(sample(text, 'meterboard_aggregation_max_lag_seconds')).toBe(0);
    expect((await fetch(`${workerBase}/health`)).status).toBe(200);
    const workerMetrics = await metricsOf(workerBase);
    expect(sample(workerMetrics, 'meterboard_aggregation_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(workerMetrics, 'meterboard_aggregation_last_success_timestamp_seconds')).toBeGreaterThanOrEqual(started);

    const after = await metricsOf(serveBase);
    // serve ran no pass itself, yet its gauge holds the worker's success, read from the database.
    expect(sample(after, 'meterboard_aggregation_duration_seconds_count')).toBe(0);
    const lastSuccess = sample(after, 'meterboard_aggregation_last_success_timestamp_seconds')!;
    expect(lastSuccess).toBeGreaterThanOrEqual(started);
    expect(lastSuccess).toBeLessThanOrEqual(Date.now() / 1000);
    // The pass's numbers against the events sent.
    const summary = await fetch(`${serveBase}/api/v1/orgs/${org}/summary?metric=pages_processed&start=${new Date(now - 6 * HOUR).toISOString()}`, { headers });
    expect((await summary.json()).summary[0].total_value).toBe(events.reduce((sum, e) => sum + e.pages, 0));

    // A one-shot `sources pull` process records the pull in the database…
    const pulledFrom = Date.now();
    const pull = runCli(['sources', 'pull'], env);
    processes.push(pull);
    expect(await pull.exited, pull.output()).toBe(0);
    // …and both long-running processes report it at their next scrape (the worker's own
    // `sources-pull` job may have pulled again since: the pull is at least as recent).
    for (const base of [serveBase, workerBase]) {
      const asked = Date.now();
      const text = await metricsOf(base);
      const answered = Date.now();
      const lastPull = sample(text, 'meterboard_source_last_success_timestamp_seconds', '{source="app"}')!;
      expect(lastPull * 1000).toBeGreaterThanOrEqual(pulledFrom - 1000);
      expect(lastPull * 1000).toBeLessThanOrEqual(answered);
      const lag = sample(text, 'meterboard_source_lag_seconds', '{source="app"}')!;
      expect(lag).toBeGreaterThanOrEqual(Math.max(0, (asked - answered) / 1000 - 1));
      expect(lag).toBeLessThanOrEqual((answered - pulledFrom) / 1000 + 1);
      expect(Math.abs(lag - ((answered + asked) / 2 / 1000 - lastPull))).toBeLessThanOrEqual((answered - asked) / 1000 + 1);
      expect(sample(text, 'meterboard_source_consecutive_failures', '{source="app"}')).toBe(0);
    }
  }, 240_000);
});
