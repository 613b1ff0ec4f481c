import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullDepsOf } from '../../src/sources/pull-job.ts';
import { pullSources } from '../../src/sources/pull-sources.ts';
import { sourceConfigSchema } from '../../src/sources/source-config.ts';
import * as s from '../../src/unstract/schemas.ts';
import { createUnstractDb, insertExecution, insertOrganizations, seededRandom, type UnstractDb, type UnstractOrg } from '../sources/unstract-fixture.ts';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, ok, query, QUERY_NOW, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * End to end from a real Unstract database (test/fixtures/unstract-schema.sql) pulled by the
 * `unstract` preset: what the aliases answer equals what the original module's own queries
 * (services.py get_deployment_usage and get_recent_activity), written here as plain SQL over
 * the same tables, answer. APP pipelines are among the rows: the original shows them in none
 * of the deployment tabs.
 */

const NOW = QUERY_NOW;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ts: number) => new Date(ts).toISOString();

/** Python's round(x, 4) on a float (ties to even on the exact binary value; costs here are multiples of 1/64). */
function pythonRound4(value: number): number {
  const scaled = value * 10_000;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return rounded / 10_000;
}

interface OriginalDeployment {
  deployment_id: string;
  deployment_name: string;
  total_tokens: number;
  total_cost: number;
  call_count: number;
  execution_count: number;
  completed_executions: number;
  failed_executions: number;
  total_pages_processed: number;
  first: number;
  last: number;
}

/** services.py get_deployment_usage (with _get_deployment_names, _build_exec_stats, _get_pages_by_deployment), as SQL. */
async function originalDeploymentUsage(db: UnstractDb, org: UnstractOrg, type: string, start: number, end: number): Promise<OriginalDeployment[]> {
  const deployments =
    type === 'API'
      ? `SELECT id, display_name AS name FROM api_deployment WHERE organization_id = $1`
      : type === 'WF'
        ? `SELECT id, workflow_name AS name FROM workflow WHERE organization_id = $1`
        : `SELECT id, pipeline_name AS name FROM pipeline WHERE organization_id = $1 AND pipeline_type = '${type}'`;
  const key = type === 'WF' ? 'we.workflow_id' : 'we.pipeline_id';
  const executions = `SELECT we.id, ${key} AS dep, we.status, we.created_at FROM workflow_execution we JOIN (${deployments}) d ON d.id = ${key}
    WHERE we.created_at >= $2 AND we.created_at <= $3 ${type === 'WF' ? 'AND we.pipeline_id IS NULL' : ''}`;
  const { rows } = await db.client.query<OriginalDeployment & { first_at: Date; last_at: Date }>(
    `WITH d AS (${deployments}), e AS (${executions}),
       stats AS (SELECT dep, count(*)::int AS execution_count, count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed_executions,
                        count(*) FILTER (WHERE status = 'ERROR')::int AS failed_executions, min(created_at) AS first_at, max(created_at) AS last_at FROM e GROUP BY dep),
       llm AS (SELECT e.dep, sum(u.total_tokens)::float8 AS tokens, sum(u.cost_in_dollars)::float8 AS cost, count(*)::int AS calls
               FROM usage u JOIN e ON e.id::text = u.execution_id
               WHERE u.usage_type = 'llm' AND u.created_at >= $2 AND u.created_at <= $3 GROUP BY e.dep),
       pages AS (SELECT e.dep, sum(pu.pages_processed)::float8 AS pages FROM page_usage pu
                 JOIN workflow_file_execution fe ON fe.id::text = pu.run_id JOIN e ON e.id = fe.workflow_execution_id GROUP BY e.dep)
     SELECT stats.dep::text AS deployment_id, d.name AS deployment_name, COALESCE(llm.tokens, 0) AS total_tokens, COALESCE(llm.cost, 0) AS total_cost,
            COALESCE(llm.calls, 0) AS call_count, stats.execution_count, stats.completed_executions, stats.failed_executions,
            COALESCE(pages.pages, 0) AS total_pages_processed, stats.first_at, stats.last_at
     FROM stats JOIN d ON d.id = stats.dep LEFT JOIN llm ON llm.dep = stats.dep LEFT JOIN pages ON pages.dep = stats.dep`,
    [org.pk, iso(start), iso(end)],
  );
  return rows.map(({ first_at, last_at, ...row }) => ({ ...row, total_cost: pythonRound4(row.total_cost), first: first_at.getTime(), last: last_at.getTime() }));
}

interface OriginalActivity {
  id: string;
  execution_id: string;
  type: string;
  file_name: string;
  status: string;
  workflow_name: string;
  created: number;
  execution_time: number | null;
  total_tokens: number;
  cost: number;
}

/** services.py get_recent_activity, as SQL. */
async function originalRecentActivity(db: UnstractDb, org: UnstractOrg, limit: number): Promise<OriginalActivity[]> {
  const { rows } = await db.client.query<OriginalActivity & { created_at: Date }>(
    `SELECT fe.id::text AS id, we.id::text AS execution_id,
            CASE WHEN we.pipeline_id IN (SELECT id FROM pipeline WHERE organization_id = $1 AND pipeline_type = 'ETL') THEN 'etl'
                 WHEN we.pipeline_id IN (SELECT id FROM api_deployment WHERE organization_id = $1) THEN 'api' ELSE 'workflow' END AS type,
            fe.file_name, fe.status, w.workflow_name, fe.created_at, fe.execution_time,
            COALESCE((SELECT sum(u.total_tokens) FROM usage u WHERE u.run_id = fe.id), 0)::float8 AS total_tokens,
            COALESCE((SELECT sum(u.cost_in_dollars) FROM usage u WHERE u.run_id = fe.id), 0)::float8 AS cost
     FROM workflow_file_execution fe JOIN workflow_execution we ON we.id = fe.workflow_execution_id JOIN workflow w ON w.id = we.workflow_id
     WHERE w.organization_id = $1 ORDER BY fe.created_at DESC LIMIT $2`,
    [org.pk, limit],
  );
  return rows.map(({ created_at, ...row }) => ({ ...row, cost: pythonRound4(row.cost), created: created_at.getTime() }));
}

describe.each(ENGINES)('the aliases over an Unstract database pulled by the preset (%s)', (engine) => {
  let t: QueryTestContext;
  let db: UnstractDb;
  let unstract: UnstractOrg;
  let org: TestOrg;
  const alias = (path: string, params: Record<string, string | number>) => `/api/v1/unstract/${org.id}/metrics/${path}/?${query(params)}`;

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    db = await createUnstractDb(`alias_${engine}`);
    unstract = (await insertOrganizations(db.client, ['org_delta']))[0]!;
    const random = seededRandom(23);
    // 45 days back, so a 40-day question is cut to 30.
    for (let i = 0; i < 90; i++) await insertExecution(db.client, { random, org: unstract, createdAt: NOW - 45 * DAY + Math.floor(random() * (45 * DAY - 2 * HOUR)) });
    org = await createOrg(t.app, { id: 'org_delta', timezone: 'UTC' });
    const source = sourceConfigSchema.parse({ name: 'unstract', kind: 'postgres', url: TEST_DATABASE_URL, schema: db.schema, preset: 'unstract', orgs: { org_delta: org.id }, every: '5m', rescan: '1d' });
    const [pulled] = await pullSources(pullDepsOf({ ...t.ctx, config: Object.freeze({ ...t.ctx.config, sources: [source] }) }), { force: true });
    expect(pulled).toMatchObject({ ok: true, rejected: 0 });
    await aggregate(t.ctx);
  }, 180_000);
  afterAll(async () => {
    await t?.ctx.sources.connector.close();
    await db?.drop();
    await t?.close();
  });

  it('workflow-token-usage equals get_deployment_usage for each tab, over 30 days and over a 40-day range cut to 30', async () => {
    for (const type of ['API', 'ETL', 'TASK', 'WF']) {
      for (const days of [30, 40]) {
        const body = await ok(t.app, alias('workflow-token-usage', { start_date: iso(NOW - days * DAY), end_date: iso(NOW), deployment_type: type }), org.keys.read, s.deploymentUsageResponse);
        expect(body.range_truncated).toBe(days > 30);
        const original = await originalDeploymentUsage(db, unstract, type, NOW - 30 * DAY, NOW);
        expect(original.length, `${type}: the fixture has rows`).toBeGreaterThan(0);
        const answered = body.deployments.map(({ first_execution_at, last_execution_at, ...row }) => ({ ...row, first: Date.parse(first_execution_at!), last: Date.parse(last_execution_at!) }));
        const byId = (a: { deployment_id: string }, b: { deployment_id: string }) => (a.deployment_id < b.deployment_id ? -1 : 1);
        expect([...answered].sort(byId), `${type} over ${days} days`).toEqual([...original].sort(byId));
        expect(body.deployments.map((d) => d.total_tokens)).toEqual(original.map((d) => d.total_tokens).sort((a, b) => b - a));
      }
    }
  });

  it('recent-activity equals get_recent_activity: the newest file executions with their own usage', async () => {
    for (const limit of [5, 50]) {
      const body = await ok(t.app, alias('recent-activity', { limit }), org.keys.read, s.recentActivityResponse);
      const original = await originalRecentActivity(db, unstract, limit);
      expect(body.activity.map((a) => a.id)).toEqual(original.map((a) => a.id));
      for (const [i, item] of body.activity.entries()) {
        const want = original[i]!;
        expect({ ...item, created_at: Date.parse(item.created_at), execution_time: null }).toEqual({
          id: want.id,
          execution_id: want.execution_id,
          type: want.type,
          file_name: want.file_name,
          status: want.status,
          workflow_name: want.workflow_name,
          created_at: want.created,
          execution_time: null,
          total_tokens: want.total_tokens,
          cost: want.cost,
        });
        // Seconds; meterboard keeps them to the millisecond.
        expect(item.execution_time).toBeCloseTo(want.execution_time!, 3);
      }
    }
  });
});
