import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareResponse,
  dashboardResponse,
  overviewResponse,
  recentActivityResponse,
  seriesResponse,
  summaryResponse,
  workflowUsageResponse,
  catalogResponse,
} from '../../src/http/query.schemas.ts';
import * as unstract from '../../src/unstract/schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { generateDataset } from './dataset.ts';
import { dayLabel, expectClose, groupBy, localParts, oracleEvents, readings, total, within, type OracleEvent } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, ok, query, QUERY_NOW, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * The composite endpoints against the oracle and the seed shapes: dashboard (seed 002),
 * overview, compare (seed 004), recent-activity and workflow-usage (seed 000), export.csv,
 * the catalog and the Unstract-compatible aliases.
 */

const ZONE = 'Europe/Zurich';
const HOUR = 3_600_000;
/** Queries "happen" here, two days after the 25-hour day, inside the dense part of the data. */
const DASHBOARD_NOW = Date.parse('2026-10-27T15:30:00Z');

const two = (n: number) => String(n).padStart(2, '0');
const hourAxisLabel = (ts: number) => {
  const p = localParts(ts, ZONE);
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:00`;
};

describe.each(ENGINES)('query endpoints (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let events: OracleEvent[];
  const base = () => `/api/v1/orgs/${org.id}`;

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('endpoints'), timezone: ZONE });
    const sent = generateDataset(23, org.id);
    await ingest(t.app, org, sent);
    await aggregate(t.ctx);
    events = oracleEvents(sent);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  describe('dashboard (seed 002)', () => {
    beforeAll(() => t.clock.set(DASHBOARD_NOW));
    afterAll(() => t.clock.set(QUERY_NOW));

    function expectDashboard(body: ReturnType<typeof dashboardResponse.parse>, from: number, to: number, labelOf: (ts: number) => string): void {
      const requests = within(readings(events, 'requests'), from, to);
      const byLabel = groupBy(requests, (r) => labelOf(r.ts));
      expect(body.requests.timestamps).toEqual(body.costs.timestamps);
      expect(body.latency.timestamps).toEqual(body.costs.timestamps);
      body.requests.timestamps.forEach((label, i) => {
        const bucket = byLabel.get(label) ?? [];
        const errors = bucket.filter((r) => Number(r.event.attrs['status_code']) >= 400);
        expect(body.requests.error[i], `errors @ ${label}`).toBe(errors.length);
        expect(body.requests.success[i], `successes @ ${label}`).toBe(bucket.length - errors.length);
        const costs = bucket.map((r) => r.event.attrs['cost_usd'] as number);
        expectClose(body.costs.value[i], costs.reduce((a, b) => a + b, 0), `cost @ ${label}`);
        const latencies = bucket.map((r) => r.event.attrs['latency_ms'] as number);
        expectClose(body.latency.value[i], latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null, `latency @ ${label}`);
      });
      expect(byLabel.size).toBeGreaterThan(0);
      for (const label of byLabel.keys()) expect(body.requests.timestamps).toContain(label);
      const count = (key: string, keep: (r: (typeof requests)[number]) => boolean = () => true) =>
        [...groupBy(requests.filter(keep), (r) => String(r.event.attrs[key])).entries()].map(([k, rs]) => [k, rs.length] as const).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      expect(body.errorsBreakdown.map((e) => [e.label, e.value])).toEqual(count('status_code', (r) => Number(r.event.attrs['status_code']) >= 400));
      expect(body.topModels.map((m) => [m.name, m.requests])).toEqual(count('model').slice(0, 10));
      expect(body.topCountries.map((c) => [c.countryCode, c.requests])).toEqual(count('country').slice(0, 10));
    }

    it('range=7d: seven local days, day labels, values equal to the oracle', async () => {
      const body = await ok(t.app, `${base()}/dashboard?range=7d`, org.keys.read, dashboardResponse);
      expect(Object.keys(body)).toEqual(expect.arrayContaining(['range', 'generatedAt', 'requests', 'errorsBreakdown', 'topModels', 'costs', 'topCountries', 'latency']));
      expect(body.range).toBe('7d');
      expect(body.grain).toBe('day');
      expect(body.generatedAt).toBe('2026-10-27T15:30:00Z');
      expect(body.requests.timestamps).toEqual(['2026-10-21', '2026-10-22', '2026-10-23', '2026-10-24', '2026-10-25', '2026-10-26', '2026-10-27']);
      expectDashboard(body, Date.parse('2026-10-20T22:00:00Z'), DASHBOARD_NOW, (ts) => dayLabel(ts, ZONE));
    });

    it('range=24h: 24 hourly points ending with the current hour, values equal to the oracle', async () => {
      const body = await ok(t.app, `${base()}/dashboard?range=24h`, org.keys.read, dashboardResponse);
      expect(body.grain).toBe('hour');
      expect(body.requests.timestamps).toHaveLength(24);
      expect(body.requests.timestamps[0]).toBe('2026-10-26T17:00');
      expect(body.requests.timestamps[23]).toBe('2026-10-27T16:00');
      expectDashboard(body, Date.parse('2026-10-26T16:00:00Z'), DASHBOARD_NOW, hourAxisLabel);
    });

    it('range=custom needs start and end and covers exactly them', async () => {
      const missing = await getJson(t.app, `${base()}/dashboard?range=custom&start=2026-10-20`, org.keys.read);
      expect(missing.status).toBe(400);
      expect(JSON.stringify(missing.body)).toContain('end');
      const body = await ok(t.app, `${base()}/dashboard?${query({ range: 'custom', start: '2026-10-22', end: '2026-10-26' })}`, org.keys.read, dashboardResponse);
      expect(body.requests.timestamps).toEqual(['2026-10-22', '2026-10-23', '2026-10-24', '2026-10-25']);
      expectDashboard(body, Date.parse('2026-10-21T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z'), (ts) => dayLabel(ts, ZONE));
    });
  });

  it('overview: totals and daily trend equal the oracle', async () => {
    const start = '2026-10-22T00:00:00+02:00';
    const end = '2026-10-27T00:00:00+01:00';
    const body = await ok(t.app, `${base()}/overview?${query({ start, end })}`, org.keys.read, overviewResponse);
    expect(body.period).toEqual({ start_date: '2026-10-22T00:00:00+02:00', end_date: '2026-10-27T00:00:00+01:00', days: 5 });
    expect(body.daily_trend.map((d) => d.date)).toEqual([
      '2026-10-22T00:00:00+02:00',
      '2026-10-23T00:00:00+02:00',
      '2026-10-24T00:00:00+02:00',
      '2026-10-25T00:00:00+02:00',
      '2026-10-26T00:00:00+01:00',
    ]);
    for (const metric of ['pages_processed', 'documents_processed', 'llm_calls', 'llm_usage', 'failed_pages']) {
      const list = within(readings(events, metric), Date.parse(start), Date.parse(end));
      const totalEntry = body.totals.find((entry) => entry.metric_name === metric)!;
      expect(totalEntry.total_count).toBe(list.length);
      expectClose(totalEntry.total_value, total(metric, list).sum, metric);
      const byDay = groupBy(list, (r) => dayLabel(r.ts, ZONE));
      for (const day of body.daily_trend) expectClose(day.metrics[metric], total(metric, byDay.get(day.date.slice(0, 10)) ?? []).sum, `${metric} on ${day.date}`);
    }
    // Without a metric filter only metrics with data are listed.
    expect(body.totals.every((entry) => entry.total_count > 0)).toBe(true);
  });

  it('compare: the day against 1, 7 and 30 days before, with seed 004 change fields', async () => {
    const body = await ok(t.app, `${base()}/compare?date=2026-10-25`, org.keys.read, compareResponse);
    expect(body).toMatchObject({ date: '2026-10-25', timezone: ZONE });
    const dayTotal = (metric: string, date: string) => {
      const list = readings(events, metric).filter((r) => dayLabel(r.ts, ZONE) === date);
      return total(metric, list);
    };
    for (const metric of ['requests', 'request_cost_usd', 'llm_calls', 'pages_processed']) {
      const entry = body.metrics.find((m) => m.metric_name === metric)!;
      expect(entry.category).toEqual(expect.any(String));
      const current = dayTotal(metric, '2026-10-25').sum;
      expectClose(entry.current, current, `${metric} current`);
      for (const [offset, date] of [['1', '2026-10-24'], ['7', '2026-10-18'], ['30', '2026-09-25']] as const) {
        const comparison = entry.comparisons[offset];
        if (!events.some((e) => dayLabel(e.ts, ZONE) === date)) {
          // No event at all that day: no history, so N/A rather than a change from zero.
          expect(comparison).toEqual({ previous: null, change: null, change_pct: null, direction: 0, level: 'ok', tone: 'neutral', previous_p95: null });
          continue;
        }
        const previous = dayTotal(metric, date).sum;
        expectClose(comparison.previous, previous, `${metric} previous ${offset}`);
        expectClose(comparison.change, current - previous, `${metric} change ${offset}`);
        expect(comparison.direction).toBe(Math.sign(Number((current - previous).toPrecision(12))));
        if (previous === 0) expect(comparison.change_pct).toBeNull();
        else expect(comparison.change_pct).toBeCloseTo(((current - previous) / previous) * 100, 1);
        const magnitude = previous === 0 ? 0 : Math.abs(((current - previous) / previous) * 100);
        expect(comparison.level).toBe(magnitude >= 25 ? 'critical' : magnitude >= 10 ? 'warning' : 'ok');
      }
    }
    const gauge = body.metrics.find((m) => m.metric_name === 'total_users')!;
    expect(gauge.current).toBe(total('total_users', readings(events, 'total_users').filter((r) => dayLabel(r.ts, ZONE) === '2026-10-25')).last);
  });

  it('compare: days before the first event have no history (previous null), not zero', async () => {
    const first = events.reduce((min, e) => Math.min(min, e.ts), Number.POSITIVE_INFINITY);
    const firstDay = dayLabel(first, ZONE);
    const body = await ok(t.app, `${base()}/compare?date=${firstDay}`, org.keys.read, compareResponse);
    const requests = body.metrics.find((m) => m.metric_name === 'requests')!;
    expect(requests.current).toBe(total('requests', readings(events, 'requests').filter((r) => dayLabel(r.ts, ZONE) === firstDay)).sum);
    for (const offset of ['1', '7', '30'] as const) {
      expect(requests.comparisons[offset]).toEqual({ previous: null, change: null, change_pct: null, direction: 0, level: 'ok', tone: 'neutral', previous_p95: null });
    }
  });

  it('recent-activity: the newest files, newest first, with their own tokens and cost (not their execution\'s)', async () => {
    const body = await ok(t.app, `${base()}/recent-activity?limit=5`, org.keys.read, recentActivityResponse);
    const files = events.filter((e) => e.type === 'file_execution').sort((a, b) => b.ts - a.ts).slice(0, 5);
    expect(body.activity.map((a) => a.id)).toEqual(files.map((f) => f.id));
    for (const item of body.activity) {
      const ofExecution = events.filter((e) => e.type === 'llm_call' && e.attrs['execution_id'] === item.execution_id);
      const fileNames = new Set(events.filter((e) => e.type === 'file_execution' && e.attrs['execution_id'] === item.execution_id).map((e) => e.attrs['file_name']));
      // A call names its file, or belongs to the file only when its execution processed just that one.
      const calls = ofExecution.filter((c) => c.attrs['file_name'] === item.file_name || (c.attrs['file_name'] === undefined && fileNames.size === 1));
      expect(item.total_tokens).toBe(calls.reduce((sum, c) => sum + (c.attrs['total_tokens'] as number), 0));
      const cost = calls.reduce((sum, c) => sum + (c.attrs['cost_usd'] as number), 0);
      expect(Math.abs(item.cost - cost)).toBeLessThanOrEqual(0.00005 + 1e-12);
      expect(Math.round(item.cost * 1e4) / 1e4).toBe(item.cost);
      const run = events.find((e) => e.type === 'workflow_execution' && e.attrs['execution_id'] === item.execution_id)!;
      expect(item.workflow_name).toBe(run.attrs['workflow_name']);
      const pipeline = run.attrs['pipeline_type'];
      expect(item.type).toBe(pipeline === 'api' || pipeline === 'etl' ? pipeline : 'workflow');
    }
    const capped = await getJson(t.app, `${base()}/recent-activity?limit=51`, org.keys.read);
    expect(capped.status).toBe(400);
  });

  it('workflow-usage: tokens, calls, cost and executions per workflow equal the oracle', async () => {
    const start = '2026-10-23T00:00:00Z';
    const end = '2026-10-26T00:00:00Z';
    const body = await ok(t.app, `${base()}/workflow-usage?${query({ start, end })}`, org.keys.read, workflowUsageResponse);
    expect(body.range_truncated).toBe(false);
    const inRange = events.filter((e) => e.ts >= Date.parse(start) && e.ts < Date.parse(end));
    const calls = groupBy(inRange.filter((e) => e.type === 'llm_call' && e.attrs['usage_type'] === 'llm'), (e) => String(e.attrs['workflow_id']));
    const runs = groupBy(inRange.filter((e) => e.type === 'workflow_execution'), (e) => String(e.attrs['workflow_id']));
    expect(new Set(body.deployments.map((d) => d.deployment_id))).toEqual(new Set([...calls.keys(), ...runs.keys()]));
    const tokens = body.deployments.map((d) => d.total_tokens);
    expect(tokens).toEqual([...tokens].sort((a, b) => b - a));
    for (const deployment of body.deployments) {
      const mine = calls.get(deployment.deployment_id) ?? [];
      const executions = runs.get(deployment.deployment_id) ?? [];
      expect(deployment.call_count).toBe(mine.length);
      expect(deployment.total_tokens).toBe(mine.reduce((sum, c) => sum + (c.attrs['total_tokens'] as number), 0));
      expectClose(deployment.total_cost, mine.reduce((sum, c) => sum + (c.attrs['cost_usd'] as number), 0), 'cost');
      expect(deployment.execution_count).toBe(executions.length);
      expect(deployment.completed_executions).toBe(executions.filter((e) => e.attrs['status'] === 'COMPLETED').length);
      expect(deployment.failed_executions).toBe(executions.filter((e) => e.attrs['status'] === 'ERROR').length);
      const executionIds = new Set(executions.map((e) => e.attrs['execution_id']));
      const pages = inRange.filter((e) => e.type === 'page_usage' && executionIds.has(e.attrs['execution_id'])).reduce((sum, e) => sum + (e.attrs['pages'] as number), 0);
      expect(deployment.total_pages_processed).toBe(pages);
    }
    const etl = await ok(t.app, `${base()}/workflow-usage?${query({ start, end, deployment_type: 'ETL' })}`, org.keys.read, workflowUsageResponse);
    const etlWorkflows = new Set(inRange.filter((e) => e.type === 'workflow_execution' && e.attrs['pipeline_type'] === 'etl').map((e) => String(e.attrs['workflow_id'])));
    expect(new Set(etl.deployments.map((d) => d.deployment_id))).toEqual(etlWorkflows);
    const old = await ok(t.app, `${base()}/workflow-usage?${query({ start: '2026-05-01', end })}`, org.keys.read, workflowUsageResponse);
    expect(old.range_truncated).toBe(true);
  });

  it('export.csv: a header and one line per series point', async () => {
    const params = { start: '2026-10-24', end: '2026-10-27', granularity: 'day', metric: 'requests,request_cost_usd' };
    const response = await t.app.inject({ method: 'GET', url: `${base()}/export.csv?${query(params)}`, headers: { authorization: `Bearer ${org.keys.read}` } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/csv');
    const lines = response.body.trim().split('\r\n');
    expect(lines[0]).toBe('timestamp,metric_name,metric_type,project,tag,value,count');
    const series = await ok(t.app, `${base()}/series?${query(params)}`, org.keys.read, seriesResponse);
    const expected = series.series.flatMap((entry) => entry.data.map((p) => `${p.timestamp},${entry.metric_name},${entry.metric_type},,,${p.value},${p.count}`));
    expect(lines.slice(1)).toEqual(expected);
    expect(lines).toHaveLength(1 + 2 * 3);
  });

  it('metrics: the catalog with kinds, units and dimensions, plus gauges found in the data', async () => {
    const body = await ok(t.app, `${base()}/metrics`, org.keys.read, catalogResponse);
    const names = body.metrics.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['documents_processed', 'requests', 'request_latency_ms', 'trace.duration_ms', 'total_users']));
    expect(body.metrics.find((m) => m.name === 'request_latency_ms')).toMatchObject({ kind: 'distribution', metric_type: 'histogram', unit: expect.any(String) });
    expect(body.metrics.find((m) => m.name === 'requests')!.dimensions).toEqual(['status_code', 'model', 'country', 'endpoint']);
  });

  describe('Unstract-compatible aliases (seed 000)', () => {
    const alias = () => `/api/v1/unstract/${org.id}/metrics`;
    const UNSTRACT_12 = ['documents_processed', 'pages_processed', 'failed_pages', 'llm_calls', 'challenges', 'summarization_calls', 'deployed_api_requests', 'etl_pipeline_executions', 'llm_usage', 'prompt_executions', 'hitl_reviews', 'hitl_completions'];

    it('summary takes start_date/end_date (a bare end date includes its day) and matches our summary', async () => {
      const theirs = await ok(t.app, `${alias()}/summary/?${query({ start_date: '2026-10-24', end_date: '2026-10-25', metric_name: 'requests' })}`, org.keys.read, unstract.summaryResponse);
      const ours = await ok(t.app, `${base()}/summary?${query({ start: '2026-10-24', end: '2026-10-26', metric: 'requests' })}`, org.keys.read, summaryResponse);
      expect(theirs).toEqual(ours);
      expect(theirs.summary[0]!.total_count).toBe(within(readings(events, 'requests'), Date.parse('2026-10-23T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z')).length);
    });

    it("summary and series list only the original's 12 metrics; empty ranges give 0, never null; project is a string", async () => {
      const empty = await ok(t.app, `${alias()}/summary/?${query({ start_date: '2026-06-01', end_date: '2026-06-02' })}`, org.keys.read, unstract.summaryResponse);
      expect(empty.summary.map((m) => m.metric_name).sort()).toEqual([...UNSTRACT_12].sort());
      for (const item of empty.summary) expect(item).toMatchObject({ total_value: 0, total_count: 0, average_value: 0, min_value: 0, max_value: 0 });
      const series = await ok(t.app, `${alias()}/series/?${query({ start_date: '2026-10-20', end_date: '2026-10-26' })}`, org.keys.read, unstract.seriesResponse);
      expect(series.series.map((e) => e.metric_name).sort()).toEqual([...UNSTRACT_12].sort());
      for (const entry of series.series) expect(entry.project).toBe('');
      const filtered = await ok(t.app, `${alias()}/series/?${query({ start_date: '2026-10-20', end_date: '2026-10-26', project: 'alpha' })}`, org.keys.read, unstract.seriesResponse);
      for (const entry of filtered.series) expect(entry.project).toBe('alpha');
    });

    it('series, live endpoints and health answer in seed 000 shapes', async () => {
      const range = { start_date: '2026-10-20', end_date: '2026-10-26' };
      const series = await ok(t.app, `${alias()}/series/?${query({ ...range, granularity: 'day', metric_name: 'pages_processed' })}`, org.keys.read, unstract.seriesResponse);
      expect(series.series[0]!.data).toHaveLength(7);
      await ok(t.app, `${alias()}/live-summary/?${query(range)}`, org.keys.read, unstract.summaryResponse);
      const liveSeries = await ok(t.app, `${alias()}/live-series/?${query({ ...range, metric_name: 'llm_calls' })}`, org.keys.read, unstract.seriesResponse);
      expect(liveSeries.partial_errors).toEqual([]);
      expect(liveSeries.series[0]!.total_value).toBe(within(readings(events, 'llm_calls'), Date.parse('2026-10-19T22:00:00Z'), Date.parse('2026-10-26T23:00:00Z')).length);
      const health = await ok(t.app, `${alias()}/health/`, org.keys.read, unstract.healthResponse);
      expect(health).toMatchObject({ healthy: true, checks: { database: { status: 'ok' }, cache: { status: 'ok' } } });
    });

    it('rejects summary ranges over 365 days and granularity=month, naming the parameter', async () => {
      const long = await getJson(t.app, `${alias()}/summary/?${query({ start_date: '2025-01-01', end_date: '2026-06-01' })}`, org.keys.read);
      expect(long.status).toBe(400);
      expect(JSON.stringify(long.body)).toContain('end_date');
      const month = await getJson(t.app, `${alias()}/series/?granularity=month`, org.keys.read);
      expect(month.status).toBe(400);
      expect(JSON.stringify(month.body)).toContain('granularity');
    });
  });

  it('the hourly dashboard labels both local 02:00 hours of the 25-hour day', async () => {
    t.clock.set(Date.parse('2026-10-25T12:30:00Z'));
    try {
      // refresh: "now" jumped backwards, while the 24h answer of an earlier test is cached for up to 30 s.
      const body = await ok(t.app, `${base()}/dashboard?range=24h&refresh=true`, org.keys.read, dashboardResponse);
      const twice = body.requests.timestamps.filter((label) => label === '2026-10-25T02:00');
      expect(twice).toHaveLength(2);
      const first = body.requests.timestamps.indexOf('2026-10-25T02:00');
      const inHour = (from: string) => within(readings(events, 'requests'), Date.parse(from), Date.parse(from) + HOUR).length;
      expect(body.requests.success[first]! + body.requests.error[first]!).toBe(inHour('2026-10-25T00:00:00Z'));
      expect(body.requests.success[first + 1]! + body.requests.error[first + 1]!).toBe(inHour('2026-10-25T01:00:00Z'));
    } finally {
      t.clock.set(QUERY_NOW);
    }
  });
});
