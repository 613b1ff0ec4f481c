import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import type { AppContext } from '../../src/app/context.ts';
import type { TestAppContext } from '../support/app-context.ts';
import { series, type SeriesResponse } from '../../src/app/query/series.ts';
import { localDate } from '../../src/domain/time-buckets.ts';
import { pullDepsOf } from '../../src/sources/pull-job.ts';
import { pullSources, type PullProgress } from '../../src/sources/pull-sources.ts';
import { sourceConfigSchema } from '../../src/sources/source-config.ts';
import { createAggregationContext, ENGINES, type AggregationTestContext } from '../aggregation/support.ts';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import {
  createUnstractDb,
  insertExecution,
  insertOrganizations,
  insertStrayPageUsage,
  oracleDays,
  SEED_000_METRICS,
  seededRandom,
  type GeneratedExecution,
  type OracleDays,
  type UnstractDb,
  type UnstractOrg,
} from './unstract-fixture.ts';

/**
 * The `unstract` preset against a real Unstract schema: after pulls, the 12 seed-000 metrics
 * of every day equal direct SQL over the source tables, through status changes, late rows and
 * re-reads; a further pull changes nothing.
 */

const NOW = Date.parse('2026-11-20T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Two meterboard organizations, one of them not in UTC, so "every day" means local days. */
const MAPPED = [
  { source: 'org_alpha', meterboard: 'alpha', timezone: 'UTC' },
  { source: 'org_beta', meterboard: 'beta', timezone: 'Asia/Kolkata' },
] as const;

async function meterboardDays(ctx: AppContext, orgId: string, timeZone: string): Promise<OracleDays> {
  const response = await series(ctx, {
    orgId,
    start: '2026-11-05',
    end: '2026-11-22',
    granularity: 'day',
    metric: [...SEED_000_METRICS],
    refresh: true,
  });
  const body = JSON.parse(response.body.toString('utf8')) as SeriesResponse;
  const result: OracleDays = new Map(SEED_000_METRICS.map((metric) => [metric, new Map<string, number>()]));
  for (const entry of body.series) {
    const days = result.get(entry.metric_name);
    if (days === undefined) continue;
    for (const point of entry.data) if (point.value !== 0) days.set(localDate(Date.parse(point.timestamp), timeZone), point.value);
  }
  return result;
}

/** Differences as readable lines ([] when equal); sums of 1/64 multiples compare exactly. */
function differences(expected: OracleDays, actual: OracleDays): string[] {
  const lines: string[] = [];
  for (const metric of SEED_000_METRICS) {
    const want = expected.get(metric)!;
    const got = actual.get(metric)!;
    for (const day of new Set([...want.keys(), ...got.keys()])) {
      const w = want.get(day) ?? 0;
      const g = got.get(day) ?? 0;
      if (Math.abs(w - g) > 1e-9 * Math.max(1, Math.abs(w))) lines.push(`${metric} ${day}: expected ${w}, got ${g}`);
    }
  }
  return lines;
}

const total = (days: OracleDays, metric: string) => [...days.get(metric)!.values()].reduce((a, b) => a + b, 0);

describe.each(ENGINES)('unstract preset pulled into %s storage', (engine) => {
  let t: AggregationTestContext;
  let ctx: TestAppContext;
  let db: UnstractDb;
  let orgs: UnstractOrg[];
  const executions: GeneratedExecution[] = [];
  const random = seededRandom(11);

  const pull = () => pullSources(pullDepsOf(ctx), { force: true });

  async function compareAll(): Promise<void> {
    for (const org of MAPPED) {
      const expected = await oracleDays(db.client, org.source, org.timezone);
      const actual = await meterboardDays(ctx, org.meterboard, org.timezone);
      expect(differences(expected, actual), `${org.meterboard}`).toEqual([]);
    }
  }

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    db = await createUnstractDb(`src_${engine}`);
    const source = sourceConfigSchema.parse({
      name: 'unstract-prod',
      kind: 'postgres',
      url: TEST_DATABASE_URL,
      schema: db.schema,
      preset: 'unstract',
      orgs: Object.fromEntries(MAPPED.map((org) => [org.source, org.meterboard])),
      every: '5m',
      rescan: '1d',
    });
    ctx = { ...t.ctx, config: Object.freeze({ ...t.ctx.config, sources: [source] }) };
    for (const org of MAPPED) await ctx.storage.createOrg({ id: org.meterboard, name: org.meterboard, timezone: org.timezone }, NOW);

    orgs = await insertOrganizations(db.client, ['org_alpha', 'org_beta', 'org_gamma']);
    for (const org of orgs) {
      for (let i = 0; i < 70; i++) {
        const createdAt = NOW - 10 * DAY + Math.floor(random() * (10 * DAY - 2 * HOUR));
        executions.push(await insertExecution(db.client, { random, org, createdAt }));
      }
      await insertStrayPageUsage(db.client, org, NOW - 3 * DAY, 7);
    }
  }, 120_000);

  afterAll(async () => {
    await ctx.sources.connector.close();
    await db?.drop();
    await t?.close();
  });

  it('a first pull reads every row with a progress total, and the metrics equal the oracle', async () => {
    const progress: PullProgress[] = [];
    const [result] = await pullSources(pullDepsOf(ctx), { force: true, onProgress: (p) => progress.push({ ...p }) });
    expect(result).toMatchObject({ source: 'unstract-prod', ok: true, error: null, rejected: 0 });
    expect(result!.accepted).toBeGreaterThan(500);
    // org_gamma is not mapped: its rows are skipped, not sent.
    expect(result!.skipped).toBeGreaterThan(0);
    const { rows } = await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM usage');
    const usageProgress = progress.filter((p) => p.table === 'usage');
    expect(usageProgress[0]!.total).toBe(rows[0]!.n);
    expect(usageProgress.at(-1)!.read).toBe(rows[0]!.n);

    await aggregateDirtyBuckets(ctx);
    await compareAll();
    const alpha = await oracleDays(db.client, 'org_alpha', 'UTC');
    for (const metric of ['documents_processed', 'pages_processed', 'failed_pages', 'llm_calls', 'challenges', 'llm_usage', 'deployed_api_requests', 'etl_pipeline_executions']) {
      expect(total(alpha, metric), metric).toBeGreaterThan(0);
    }
  });

  it('status changes, corrected errors and late rows are picked up; each row counts once', async () => {
    const before = await oracleDays(db.client, 'org_alpha', 'UTC');
    const t2 = NOW + 2 * HOUR;
    t.clock.set(t2);
    // Executions finish: PENDING/EXECUTING → COMPLETED or ERROR (rows updated in place, modified_at bumped).
    for (const execution of executions) {
      if (execution.status === 'PENDING' || execution.status === 'EXECUTING') {
        const status = random() < 0.6 ? 'COMPLETED' : 'ERROR';
        await db.client.query('UPDATE workflow_execution SET status = $1, modified_at = $2 WHERE id = $3', [status, new Date(t2 - 30 * 60_000), execution.id]);
      }
      for (const file of execution.files) {
        const next = file.status === 'PENDING' || file.status === 'EXECUTING' ? (random() < 0.5 ? 'ERROR' : 'COMPLETED') : file.status === 'ERROR' && random() < 0.5 ? 'COMPLETED' : null;
        if (next !== null) {
          await db.client.query('UPDATE workflow_file_execution SET status = $1, modified_at = $2 WHERE id = $3', [next, new Date(t2 - 20 * 60_000), file.id]);
        }
      }
    }
    // Inserted late: created three days ago, written now (Django's auto_now modified_at).
    for (const org of orgs) await insertExecution(db.client, { random, org, createdAt: NOW - 3 * DAY, modifiedAt: t2 - 10 * 60_000 });
    // Committed out of order: modified before the first pull's cursor, inside the re-scan window.
    for (const org of orgs) await insertExecution(db.client, { random, org, createdAt: NOW - 5 * HOUR - 60_000, modifiedAt: NOW - 5 * HOUR });

    const after = await oracleDays(db.client, 'org_alpha', 'UTC');
    expect(differences(before, after).length).toBeGreaterThan(0);

    const [result] = await pull();
    expect(result).toMatchObject({ ok: true, rejected: 0 });
    expect(result!.accepted).toBeGreaterThan(0);
    await aggregateDirtyBuckets(ctx);
    await compareAll();
  });

  it('a further pull changes nothing', async () => {
    t.clock.advance(60_000);
    const versions = await Promise.all(MAPPED.map((org) => ctx.storage.getDataVersion(org.meterboard)));
    const [result] = await pull();
    expect(result).toMatchObject({ ok: true, accepted: 0, rejected: 0 });
    // The re-scan window re-read rows; every one was a duplicate.
    expect(result!.duplicates).toBeGreaterThan(0);
    expect(await ctx.storage.dirtyOrgs()).toEqual([]);
    await aggregateDirtyBuckets(ctx);
    expect(await Promise.all(MAPPED.map((org) => ctx.storage.getDataVersion(org.meterboard)))).toEqual(versions);
    await compareAll();

    const [status] = await ctx.sources.state.listStatus();
    expect(status).toMatchObject({ source: 'unstract-prod', consecutiveFailures: 0, lastError: null, eventsRejected: 0 });
    expect(status!.rowsRead).toBeGreaterThan(500);
    expect(status!.lastSuccessAt).toBe(t.clock.now());
  });

  it('carries deployment ids, names and types on the events (workflow-token-usage groups by them)', async () => {
    const events = await ctx.storage.scanEvents({ orgId: 'alpha', from: 0, to: NOW + DAY, types: ['workflow_execution'] });
    const alpha = orgs[0]!;
    const { rows } = await db.client.query<{ id: string; pipeline_id: string | null }>(
      `SELECT we.id::text AS id, we.pipeline_id::text AS pipeline_id FROM workflow_execution we JOIN workflow w ON w.id = we.workflow_id WHERE w.organization_id = $1`,
      [alpha.pk],
    );
    expect(events.length).toBe(rows.length);
    const expectedType = (pipelineId: string | null) =>
      pipelineId === alpha.apiDeployment ? 'API' : pipelineId === alpha.etlPipeline ? 'ETL' : pipelineId === alpha.taskPipeline ? 'TASK' : pipelineId === alpha.appPipeline ? 'APP' : 'WF';
    const byExecution = new Map(events.map((event) => [event.attrs['execution_id'], event.attrs]));
    for (const row of rows) {
      const attrs = byExecution.get(row.id)!;
      expect(attrs['deployment_type']).toBe(expectedType(row.pipeline_id));
      if (row.pipeline_id !== null) expect(attrs['deployment_id']).toBe(row.pipeline_id);
      if (row.pipeline_id === alpha.apiDeployment) expect(attrs['deployment_name']).toBe('api org_alpha');
    }
  });
});
