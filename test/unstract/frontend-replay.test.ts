import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as s from '../../src/unstract/schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { oracleEvents, readings, total, within, type OracleEvent } from '../query/oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, ingest, QUERY_NOW, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { DEPLOYMENTS, generateUnstractEvents } from './dataset.ts';
import { freePort, runReplay, startKeyProxy, startNginx, startUnstractBackendStandIn, type Running } from './proxies.ts';

/**
 * The real Unstract frontend (frontend/src/hooks/useMetricsData.js and the
 * metrics-dashboard components of Zipstack/unstract) served against meterboard the way
 * docs/UNSTRACT.md says: a reverse proxy that drops the browser's session cookie and injects a
 * read key — the shipped deploy/unstract/key-proxy.mjs and the shipped nginx template in a
 * real nginx, each a real socket. This replays the requests the frontend sends and checks every
 * field its components read against an oracle computed here from the raw events, then runs the
 * shipped stand-alone replay (deploy/unstract/replay.mjs) through both proxies.
 */

const DAY = 86_400_000;
const UNSTRACT_12 = new Set([
  'documents_processed', 'pages_processed', 'failed_pages', 'llm_calls', 'challenges', 'summarization_calls',
  'deployed_api_requests', 'etl_pipeline_executions', 'llm_usage', 'prompt_executions', 'hitl_reviews', 'hitl_completions',
]);

describe.each(ENGINES)('the Unstract frontend through a key-injecting reverse proxy (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let backend: Awaited<ReturnType<typeof startUnstractBackendStandIn>>;
  let proxy: Running;
  let refusingProxy: Running;
  let nginx: Running;
  let nginxRefusing: number;
  let events: OracleEvent[];
  let base: string;
  /** The frontend's "now": dayjs().startOf('minute'). */
  const now = Math.floor(QUERY_NOW / 60_000) * 60_000;
  const iso = (ts: number) => new Date(ts).toISOString();

  /** What axiosPrivate.get(url) sees: status and parsed body, with a session cookie the proxy must drop. */
  async function get(path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${base}${path}`, { headers: { cookie: 'sessionid=browser-session', accept: 'application/json' } });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  }
  async function getOk<T>(path: string, schema: { parse(value: unknown): T }): Promise<T> {
    const answer = await get(path);
    expect(answer.status, `${path} → ${JSON.stringify(answer.body)}`).toBe(200);
    return schema.parse(answer.body);
  }

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('unstract'), timezone: 'Europe/Berlin' });
    const sent = generateUnstractEvents(7, org.id, QUERY_NOW - 80 * DAY, QUERY_NOW - 60_000, 500);
    await ingest(t.app, org, sent);
    await aggregate(t.ctx);
    events = oracleEvents(sent);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const meterboard = `127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    backend = await startUnstractBackendStandIn();
    const unstract = `127.0.0.1:${backend.port}`;
    proxy = await startKeyProxy({ MB_UPSTREAM: `http://${meterboard}`, MB_READ_KEY: org.keys.read, UNSTRACT_UPSTREAM: `http://${unstract}` });
    refusingProxy = await startKeyProxy({ MB_UPSTREAM: `http://${meterboard}`, MB_READ_KEY: 'mb_read_not-a-key', UNSTRACT_UPSTREAM: `http://${unstract}` });
    nginxRefusing = await freePort();
    nginx = await startNginx([
      { listen: await freePort(), meterboard, readKey: org.keys.read, unstract },
      { listen: nginxRefusing, meterboard, readKey: 'mb_read_not-a-key', unstract },
    ]);
    base = `http://127.0.0.1:${proxy.port}/api/v1/unstract/${org.id}`;
  }, 180_000);
  afterAll(async () => {
    await nginx?.stop();
    await proxy?.stop();
    await refusingProxy?.stop();
    await backend?.stop();
    await t?.close();
  });

  it("overview (summary cards and charts, last 30 days): only the original's metrics, values equal to the raw events", async () => {
    const start = now - 30 * DAY;
    const params = new URLSearchParams({ start_date: iso(start), end_date: iso(now) });
    const body = await getOk(`/metrics/overview/?${params}`, s.overviewResponse);
    expect(body.period.days).toBe(30);
    const names = body.totals.map((m) => m.metric_name);
    for (const name of names) expect(UNSTRACT_12, name).toContain(name);
    expect(names).not.toContain('requests');
    for (const metric of ['pages_processed', 'failed_pages', 'llm_calls', 'llm_usage', 'documents_processed', 'deployed_api_requests', 'etl_pipeline_executions', 'prompt_executions', 'challenges']) {
      const oracle = total(metric, within(readings(events, metric), start, now));
      const answer = body.totals.find((m) => m.metric_name === metric);
      if (oracle.count === 0) expect(answer, metric).toBeUndefined();
      else {
        expect(answer, metric).toBeDefined();
        expect(answer!.total_count, metric).toBe(oracle.count);
        expect(Math.abs(answer!.total_value - oracle.sum), metric).toBeLessThanOrEqual(1e-9 * Math.max(1, oracle.sum));
      }
    }
    // PagesChart and TrendAnalysisChart read daily_trend[].date and .metrics[name].
    const pagesByDay = body.daily_trend.reduce((sum, day) => sum + (day.metrics['pages_processed'] ?? 0), 0);
    expect(pagesByDay).toBe(total('pages_processed', within(readings(events, 'pages_processed'), start, now)).sum);
    for (const day of body.daily_trend) {
      expect(Number.isNaN(Date.parse(day.date))).toBe(false);
      expect(Object.keys(day.metrics).length).toBeGreaterThan(0);
      for (const name of Object.keys(day.metrics)) expect(UNSTRACT_12).toContain(name);
    }
  });

  it('overview takes ranges past 365 days (the date picker allows them) and falls back to defaults on unreadable dates', async () => {
    const long = await getOk(`/metrics/overview/?${new URLSearchParams({ start_date: iso(now - 800 * DAY), end_date: iso(now) })}`, s.overviewResponse);
    expect(long.period.days).toBe(800);
    expect(long.totals.find((m) => m.metric_name === 'pages_processed')!.total_value).toBe(total('pages_processed', readings(events, 'pages_processed')).sum);
    const fallback = await getOk('/metrics/overview/?start_date=yesterday&end_date=soon', s.overviewResponse);
    expect(fallback.period.days).toBe(7);
  });

  it('recent-activity?limit=5: newest files first, each with its own tokens and cost rounded to 4 decimals', async () => {
    const body = await getOk('/metrics/recent-activity/?limit=5', s.recentActivityResponse);
    const files = events.filter((e) => e.type === 'file_execution').sort((a, b) => b.ts - a.ts).slice(0, 5);
    // services.py get_recent_activity: file executions only, `id` = str(WorkflowFileExecution.id).
    expect(body.activity.map((a) => a.id)).toEqual(files.map((f) => f.attrs['file_execution_id']));
    for (const [i, item] of body.activity.entries()) {
      const file = files[i]!;
      const calls = events.filter((e) => e.type === 'llm_call' && e.attrs['file_execution_id'] === file.attrs['file_execution_id']);
      expect(item.total_tokens).toBe(calls.reduce((sum, c) => sum + (c.attrs['total_tokens'] as number), 0));
      const cost = calls.reduce((sum, c) => sum + (c.attrs['cost_usd'] as number), 0);
      expect(item.cost).toBe(Number(cost.toFixed(4)));
      expect(item.file_name).toBe(file.attrs['file_name']);
      expect(item.status).toBe(file.attrs['status']);
      expect(['etl', 'api', 'workflow']).toContain(item.type);
      const run = events.find((e) => e.type === 'workflow_execution' && e.attrs['execution_id'] === file.attrs['execution_id'])!;
      const pipeline = run.attrs['pipeline_type'];
      expect(item.type).toBe(pipeline === 'api' || pipeline === 'etl' ? pipeline : 'workflow');
      expect(item.execution_id).toBe(file.attrs['execution_id']);
    }
  });

  it('recent-activity clamps limit=100 to 50 and reads a non-integer limit as 10', async () => {
    expect((await getOk('/metrics/recent-activity/?limit=100', s.recentActivityResponse)).activity).toHaveLength(50);
    expect((await getOk('/metrics/recent-activity/?limit=abc', s.recentActivityResponse)).activity).toHaveLength(10);
    expect((await getOk('/metrics/recent-activity/?limit=2.5', s.recentActivityResponse)).activity).toHaveLength(10);
  });

  it('workflow-token-usage: rows per deployment of the asked type, API by default and echoed, cost rounded', async () => {
    const start = now - 30 * DAY;
    for (const type of ['API', 'ETL', 'TASK', 'WF'] as const) {
      const params = new URLSearchParams({ start_date: iso(start), end_date: iso(now), deployment_type: type });
      const body = await getOk(`/metrics/workflow-token-usage/?${params}`, s.deploymentUsageResponse);
      expect(body.deployment_type).toBe(type);
      expect(body.range_truncated).toBe(false);
      const pipeline = { API: 'api', ETL: 'etl', TASK: 'task', WF: 'workflow' }[type];
      const runs = events.filter((e) => e.type === 'workflow_execution' && e.attrs['pipeline_type'] === pipeline && e.ts >= start && e.ts < now);
      const keyOf = (e: OracleEvent) => String(type === 'WF' ? e.attrs['workflow_id'] : e.attrs['deployment_id']);
      const expectedIds = new Set(runs.map(keyOf));
      expect(new Set(body.deployments.map((d) => d.deployment_id))).toEqual(expectedIds);
      expect(body.deployments.map((d) => d.total_tokens)).toEqual(body.deployments.map((d) => d.total_tokens).sort((a, b) => b - a));
      for (const row of body.deployments) {
        const mine = runs.filter((e) => keyOf(e) === row.deployment_id);
        const executionIds = new Set(mine.map((e) => e.attrs['execution_id']));
        const calls = events.filter((e) => e.type === 'llm_call' && e.attrs['usage_type'] === 'llm' && executionIds.has(e.attrs['execution_id']) && e.ts >= start && e.ts < now);
        const declared = DEPLOYMENTS.find((d) => keyOf({ attrs: d } as unknown as OracleEvent) === row.deployment_id)!;
        expect(row.deployment_name).toBe(type === 'WF' ? declared.workflow_name : (declared as { deployment_name: string }).deployment_name);
        expect(row.execution_count).toBe(mine.length);
        expect(row.completed_executions).toBe(mine.filter((e) => e.attrs['status'] === 'COMPLETED').length);
        expect(row.failed_executions).toBe(mine.filter((e) => e.attrs['status'] === 'ERROR').length);
        expect(row.call_count).toBe(calls.length);
        expect(row.total_tokens).toBe(calls.reduce((sum, c) => sum + (c.attrs['total_tokens'] as number), 0));
        expect(row.total_cost).toBe(Number(calls.reduce((sum, c) => sum + (c.attrs['cost_usd'] as number), 0).toFixed(4)));
        const pages = events.filter((e) => e.type === 'page_usage' && executionIds.has(e.attrs['execution_id'])).reduce((sum, e) => sum + (e.attrs['pages'] as number), 0);
        expect(row.total_pages_processed).toBe(pages);
        expect(row.last_execution_at!.split('T')[0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
    }
    const byDefault = await getOk(`/metrics/workflow-token-usage/?${new URLSearchParams({ start_date: iso(start), end_date: iso(now) })}`, s.deploymentUsageResponse);
    expect(byDefault.deployment_type).toBe('API');
    const refreshed = await getOk(`/metrics/workflow-token-usage/?${new URLSearchParams({ start_date: iso(start), end_date: iso(now), deployment_type: 'API', refresh: 'true' })}`, s.deploymentUsageResponse);
    expect(refreshed).toEqual(byDefault);
  });

  it('workflow-token-usage cuts the 90-day preset to its last 30 days and says so', async () => {
    const params = new URLSearchParams({ start_date: iso(now - 90 * DAY), end_date: iso(now), deployment_type: 'API' });
    const body = await getOk(`/metrics/workflow-token-usage/?${params}`, s.deploymentUsageResponse);
    expect(body.range_truncated).toBe(true);
    expect(Date.parse(body.start_date)).toBe(now - 30 * DAY);
    const thirty = await getOk(`/metrics/workflow-token-usage/?${new URLSearchParams({ start_date: iso(now - 30 * DAY), end_date: iso(now), deployment_type: 'API' })}`, s.deploymentUsageResponse);
    expect(body.deployments).toEqual(thirty.deployments);
  });

  it('health reports each check as a {status} object; the OSS-only subscription endpoints are a 404, never a 401', async () => {
    const health = await getOk('/metrics/health/', s.healthResponse);
    expect(health).toMatchObject({ healthy: true, checks: { database: { status: 'ok' }, cache: { status: 'ok' } } });
    // The frontend treats 404 as "no subscription data"; a 401 would log the user out.
    expect((await get('/subscription/usage/')).status).toBe(404);
    expect((await get('/subscription/usage/daily/')).status).toBe(404);
  });

  it('the shipped stand-alone replay passes through the Node proxy and through nginx with the shipped template', async () => {
    for (const port of [proxy.port, nginx.port]) {
      const replay = await runReplay(`http://127.0.0.1:${port}`, org.id, QUERY_NOW);
      expect(replay.output).toMatch(/^\d+ passed, 0 failed$/m);
      expect(replay.code, replay.output).toBe(0);
    }
  }, 120_000);

  it('a key meterboard refuses reaches the browser as a 502 with a message, never a 401 (which logs the user out)', async () => {
    for (const port of [refusingProxy.port, nginxRefusing]) {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/unstract/${org.id}/metrics/overview/`, { headers: { cookie: 'sessionid=browser-session' } });
      expect(response.status).toBe(502);
      // useMetricsData.js shows err.response.data.message.
      expect(((await response.json()) as { message: string }).message).toMatch(/read key/);
    }
  });

  it('everything but the metrics API stays with the Unstract backend, cookie and all, and gets no key', async () => {
    for (const port of [proxy.port, nginx.port]) {
      backend.seen.length = 0;
      const session = await fetch(`http://127.0.0.1:${port}/api/v1/unstract/${org.id}/session/`, { headers: { cookie: 'sessionid=browser-session' } });
      expect(session.status).toBe(200);
      await fetch(`http://127.0.0.1:${port}/api/v1/unstract/${org.id}/metrics/health/`, { headers: { cookie: 'sessionid=browser-session' } });
      expect(backend.seen).toEqual([{ path: `/api/v1/unstract/${org.id}/session/`, cookie: 'sessionid=browser-session', authorization: undefined }]);
    }
  });

  it('without the proxy (no key) the aliases answer 401', async () => {
    const direct = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/unstract/${org.id}/metrics/overview/`;
    expect((await fetch(direct)).status).toBe(401);
  });
});
