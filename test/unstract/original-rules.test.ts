import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as s from '../../src/unstract/schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { dayLabel, oracleEvents, readings, total, within, type OracleEvent, type SentEvent } from '../query/oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, ok, query, QUERY_NOW, type QueryTestContext, type TestOrg } from '../query/support.ts';
import { generateUnstractEvents } from './dataset.ts';

/**
 * One test per rule of the original dashboard_metrics module (Zipstack/unstract,
 * backend/dashboard_metrics/: views.py, serializers.py, services.py, cache.py, models.py),
 * each citing where the rule is. Expected values come from those rules applied here to the
 * events sent, never from meterboard's own answers.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const ZONE = 'America/New_York';
const NOW = QUERY_NOW;
const iso = (ts: number) => new Date(ts).toISOString();

/** Python's round(x, 4) for the values used here: 1.03125 is a binary-exact tie, settled to the even digit. */
const PYTHON_ROUND_1_03125 = 1.0312;

/** Hand-made events for the rules the generated data set does not pin down. */
function handMade(prefix: string): SentEvent[] {
  const at = (ts: number) => new Date(ts).toISOString();
  const task = { pipeline_type: 'task', deployment_type: 'TASK', deployment_id: `${prefix}-task-x`, deployment_name: 'Task X', workflow_id: `${prefix}-wf-x`, workflow_name: 'X' };
  return [
    // A TASK pipeline run with one file: an LLM call of exactly 1.03125 dollars and an embedding call for the same file.
    { id: `${prefix}-h1`, type: 'llm_call', timestamp: at(NOW - 4 * MINUTE), model: 'gpt-4o', usage_type: 'llm', reason: 'extraction', input_tokens: 80, output_tokens: 20, total_tokens: 100, cost_usd: 1.03125, execution_id: `${prefix}-x-task`, file_execution_id: `${prefix}-x-task-file`, ...task },
    { id: `${prefix}-h2`, type: 'llm_call', timestamp: at(NOW - 4 * MINUTE + 1000), model: 'text-embedding-3-small', usage_type: 'embedding', total_tokens: 50, cost_usd: 0, execution_id: `${prefix}-x-task`, file_execution_id: `${prefix}-x-task-file` },
    { id: `${prefix}-h3`, type: 'page_usage', timestamp: at(NOW - 3 * MINUTE), pages: 4, failed_pages: 0, file_name: 'x.pdf', execution_id: `${prefix}-x-task`, file_execution_id: `${prefix}-x-task-file` },
    { id: `${prefix}-h4`, type: 'file_execution', timestamp: at(NOW - 3 * MINUTE + 1000), execution_id: `${prefix}-x-task`, file_execution_id: `${prefix}-x-task-file`, file_name: 'x.pdf', status: 'COMPLETED', pages: 4, duration_ms: 2500, ...task },
    { id: `${prefix}-h5`, type: 'workflow_execution', timestamp: at(NOW - 5 * MINUTE), execution_id: `${prefix}-x-task`, status: 'COMPLETED', duration_ms: 3000, ...task },
    // The newest execution of all has no file execution: the original's list is file executions only.
    { id: `${prefix}-h6`, type: 'workflow_execution', timestamp: at(NOW - 30_000), execution_id: `${prefix}-x-nofile`, status: 'ERROR', pipeline_type: 'api', deployment_type: 'API', deployment_id: `${prefix}-api-nofile`, deployment_name: 'No-file API', workflow_id: `${prefix}-wf-n`, workflow_name: 'N' },
  ];
}

describe.each(ENGINES)("the original module's rules, point by point (%s)", (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let events: OracleEvent[];
  let prefix: string;
  const alias = (path: string, params: Record<string, string | number | undefined> = {}) => {
    const search = query(params);
    return `/api/v1/unstract/${org.id}/metrics/${path}/${search === '' ? '' : `?${search}`}`;
  };

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('unstract-rules'), timezone: ZONE });
    prefix = org.id;
    const sent = [...generateUnstractEvents(11, prefix, NOW - 40 * DAY, NOW - MINUTE, 160), ...handMade(prefix)];
    await ingest(t.app, org, sent);
    await aggregate(t.ctx);
    events = oracleEvents(sent);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  describe('overview (views.py DashboardMetricsViewSet.overview)', () => {
    it('totals: only the 12 metrics of MetricsSummary.jsx that have data in range, ordered by metric_name (.order_by("metric_name")), equal to the raw events', async () => {
      const start = NOW - 30 * DAY;
      const body = await ok(t.app, alias('overview', { start_date: iso(start), end_date: iso(NOW) }), org.keys.read, s.overviewResponse);
      const names = body.totals.map((m) => m.metric_name);
      expect(names).toEqual([...names].sort());
      const expected = ['challenges', 'deployed_api_requests', 'documents_processed', 'etl_pipeline_executions', 'failed_pages', 'llm_calls', 'llm_usage', 'pages_processed', 'prompt_executions']
        .filter((metric) => total(metric, within(readings(events, metric), start, NOW)).count > 0);
      // hitl_reviews, hitl_completions and summarization_calls have no oracle rule here: they may appear, nothing else may.
      expect(names.filter((name) => !['hitl_reviews', 'hitl_completions', 'summarization_calls'].includes(name))).toEqual(expected);
      for (const metric of expected) {
        const oracle = total(metric, within(readings(events, metric), start, NOW));
        const row = body.totals.find((m) => m.metric_name === metric)!;
        expect(row.total_value, metric).toBeCloseTo(oracle.sum, 9);
      }
      expect(names).not.toContain('requests');
      expect(names).not.toContain('request_latency_ms');
    });

    it('daily_trend: one entry per day with data, in date order, each day the organization\'s local day (date sorted, metrics {name: total_value})', async () => {
      const start = NOW - 10 * DAY;
      const body = await ok(t.app, alias('overview', { start_date: iso(start), end_date: iso(NOW) }), org.keys.read, s.overviewResponse);
      const pages = within(readings(events, 'pages_processed'), start, NOW);
      const byDay = new Map<string, number>();
      for (const reading of pages) byDay.set(dayLabel(reading.ts, ZONE), (byDay.get(dayLabel(reading.ts, ZONE)) ?? 0) + reading.value);
      const answered = new Map(body.daily_trend.filter((d) => d.metrics['pages_processed'] !== undefined).map((d) => [d.date.slice(0, 10), d.metrics['pages_processed']!]));
      expect(answered).toEqual(byDay);
      for (const day of body.daily_trend) expect(day.date).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00$/);
      expect(body.daily_trend.map((d) => d.date)).toEqual(body.daily_trend.map((d) => d.date).sort());
    });

    it('period.days is timedelta.days (floored), and a reversed range is an empty answer, not an error', async () => {
      const partial = await ok(t.app, alias('overview', { start_date: iso(NOW - 30 * DAY + HOUR), end_date: iso(NOW) }), org.keys.read, s.overviewResponse);
      expect(partial.period.days).toBe(29);
      const reversed = await ok(t.app, alias('overview', { start_date: iso(NOW), end_date: iso(NOW - 36 * HOUR) }), org.keys.read, s.overviewResponse);
      // timedelta(hours=-36).days == -2
      expect(reversed).toMatchObject({ period: { days: -2 }, totals: [], daily_trend: [] });
    });

    it('no range limit (no serializer), and an unreadable date falls back to its default: end now, start end − 7 days (except ValueError)', async () => {
      const long = await ok(t.app, alias('overview', { start_date: iso(NOW - 800 * DAY), end_date: iso(NOW) }), org.keys.read, s.overviewResponse);
      expect(long.period.days).toBe(800);
      const fallback = await ok(t.app, alias('overview', { start_date: 'yesterday', end_date: 'soon' }), org.keys.read, s.overviewResponse);
      expect(Date.parse(fallback.period.end_date)).toBe(NOW);
      expect(Date.parse(fallback.period.start_date)).toBe(NOW - 7 * DAY);
      const end = NOW - 3 * DAY;
      const onlyEnd = await ok(t.app, alias('overview', { start_date: 'not a date', end_date: iso(end) }), org.keys.read, s.overviewResponse);
      expect(Date.parse(onlyEnd.period.start_date)).toBe(end - 7 * DAY);
      expect(onlyEnd.period.days).toBe(7);
    });
  });

  describe('recent-activity (views.py recent_activity, services.py get_recent_activity)', () => {
    it('limit is min(int(limit), 50), and 10 when int() refuses it', async () => {
      // Python: int(' 7 ') == 7, int('+3') == 3, int('1_0') == 10; int('2.5'), int('abc'), int('') raise ValueError.
      const cases: Array<[string | undefined, number]> = [[undefined, 10], ['5', 5], ['100', 50], ['50', 50], ['abc', 10], ['2.5', 10], ['', 10], [' 7 ', 7], ['+3', 3], ['1_0', 10], ['0', 0]];
      for (const [limit, expected] of cases) {
        const body = await ok(t.app, alias('recent-activity', { limit }), org.keys.read, s.recentActivityResponse);
        expect(body.activity.length, `limit=${JSON.stringify(limit)}`).toBe(expected);
      }
    });

    it('file executions only, newest first, id = the file execution id, type by the execution (etl, api, else workflow: TASK is "workflow")', async () => {
      const body = await ok(t.app, alias('recent-activity', { limit: 20 }), org.keys.read, s.recentActivityResponse);
      const files = events.filter((e) => e.type === 'file_execution').sort((a, b) => b.ts - a.ts).slice(0, 20);
      expect(body.activity.map((a) => a.id)).toEqual(files.map((f) => f.attrs['file_execution_id']));
      expect(body.activity.map((a) => a.execution_id)).not.toContain(`${prefix}-x-nofile`);
      const first = body.activity[0]!;
      expect(first).toMatchObject({ id: `${prefix}-x-task-file`, execution_id: `${prefix}-x-task`, type: 'workflow', file_name: 'x.pdf', status: 'COMPLETED', execution_time: 2.5 });
    });

    it('total_tokens sums every usage row of the file (run_id, any usage_type); cost is round(sum, 4) as Python rounds', async () => {
      const body = await ok(t.app, alias('recent-activity', { limit: 1 }), org.keys.read, s.recentActivityResponse);
      expect(body.activity[0]).toMatchObject({ total_tokens: 150, cost: PYTHON_ROUND_1_03125 });
    });
  });

  describe('workflow-token-usage (serializers.py DeploymentUsageQuerySerializer, services.py get_deployment_usage)', () => {
    const range = { start_date: iso(NOW - 30 * DAY), end_date: iso(NOW) };

    it('deployment_type: a ChoiceField of ExecutionEntity values, API by default, echoed; an empty value is the default, any other spelling a 400', async () => {
      expect((await ok(t.app, alias('workflow-token-usage', range), org.keys.read, s.deploymentUsageResponse)).deployment_type).toBe('API');
      expect((await ok(t.app, alias('workflow-token-usage', { ...range, deployment_type: '' }), org.keys.read, s.deploymentUsageResponse)).deployment_type).toBe('API');
      for (const type of ['API', 'ETL', 'TASK', 'WF']) {
        expect((await ok(t.app, alias('workflow-token-usage', { ...range, deployment_type: type }), org.keys.read, s.deploymentUsageResponse)).deployment_type).toBe(type);
      }
      for (const wrong of ['api', 'WORKFLOW', 'X']) {
        const answer = await getJson<{ error: { message: string } }>(t.app, alias('workflow-token-usage', { ...range, deployment_type: wrong }), org.keys.read);
        expect(answer.status, wrong).toBe(400);
        expect(answer.body.error.message).toMatch(/deployment_type/);
      }
    });

    it('a range over 30 days becomes its last 30 days with range_truncated; exactly 30 days is not cut', async () => {
      const exact = await ok(t.app, alias('workflow-token-usage', range), org.keys.read, s.deploymentUsageResponse);
      expect(exact.range_truncated).toBe(false);
      const longer = await ok(t.app, alias('workflow-token-usage', { start_date: iso(NOW - 30 * DAY - 1000), end_date: iso(NOW) }), org.keys.read, s.deploymentUsageResponse);
      expect(longer.range_truncated).toBe(true);
      expect(Date.parse(longer.start_date)).toBe(NOW - 30 * DAY);
      expect(Date.parse(longer.end_date)).toBe(NOW);
      expect(longer.deployments).toEqual(exact.deployments);
    });

    it('MetricsQuerySerializer.validate first: start after end, or over 365 days, is a 400; the other fields are validated too', async () => {
      const cases: Array<[Record<string, string>, number]> = [
        [{ start_date: iso(NOW), end_date: iso(NOW - DAY) }, 400],
        [{ start_date: iso(NOW - 366 * DAY), end_date: iso(NOW) }, 400],
        [{ start_date: iso(NOW - 365 * DAY), end_date: iso(NOW) }, 200],
        [{ ...range, granularity: 'month' }, 400],
        [{ ...range, source: 'weekly' }, 400],
        [{ ...range, granularity: '', source: '', metric_name: '' }, 200],
        [{ start_date: 'last tuesday' }, 400],
        // end_date alone: start defaults to now − 30 days, which is after an end 40 days back.
        [{ end_date: iso(NOW - 40 * DAY) }, 400],
      ];
      for (const [params, status] of cases) expect((await getJson(t.app, alias('workflow-token-usage', params), org.keys.read)).status, JSON.stringify(params)).toBe(status);
    });

    it('one row per deployment (id and name from the events), its LLM usage (usage_type llm) in range, cost round(sum, 4), pages through its executions, largest tokens first', async () => {
      const body = await ok(t.app, alias('workflow-token-usage', { ...range, deployment_type: 'TASK' }), org.keys.read, s.deploymentUsageResponse);
      const row = body.deployments.find((d) => d.deployment_id === `${prefix}-task-x`);
      expect(row).toMatchObject({
        deployment_name: 'Task X',
        total_tokens: 100,
        total_cost: PYTHON_ROUND_1_03125,
        call_count: 1,
        execution_count: 1,
        completed_executions: 1,
        failed_executions: 0,
        total_pages_processed: 4,
      });
      expect(Date.parse(row!.first_execution_at!)).toBe(NOW - 5 * MINUTE);
      expect(body.deployments.map((d) => d.total_tokens)).toEqual(body.deployments.map((d) => d.total_tokens).sort((a, b) => b - a));
      const api = await ok(t.app, alias('workflow-token-usage', range), org.keys.read, s.deploymentUsageResponse);
      // An execution without LLM calls still lists its deployment (dep_agg.setdefault for every deployment with executions).
      expect(api.deployments.find((d) => d.deployment_id === `${prefix}-api-nofile`)).toMatchObject({ deployment_name: 'No-file API', total_tokens: 0, total_cost: 0, call_count: 0, execution_count: 1, failed_executions: 1 });
    });
  });

  describe('summary, series, live-summary, live-series (serializers.py MetricsQuerySerializer, views.py)', () => {
    it('start after end and ranges over 365 days are a 400; end_date alone defaults start to 30 days before now; empty values are absent', async () => {
      for (const path of ['summary', 'series', 'live-summary', 'live-series']) {
        const status = async (params: Record<string, string>) => (await getJson(t.app, alias(path, params), org.keys.read)).status;
        expect(await status({ start_date: iso(NOW), end_date: iso(NOW - DAY) }), path).toBe(400);
        expect(await status({ start_date: iso(NOW - 366 * DAY), end_date: iso(NOW) }), path).toBe(400);
        expect(await status({ end_date: iso(NOW - 40 * DAY) }), path).toBe(400);
        expect(await status({ end_date: iso(NOW - 10 * DAY) }), path).toBe(200);
        expect(await status({ granularity: 'minute' }), path).toBe(400);
        expect(await status({ source: 'yearly' }), path).toBe(400);
        expect(await status({ granularity: '', source: '', metric_name: '', project: '' }), path).toBe(200);
      }
      const onlyEnd = await ok(t.app, alias('summary', { end_date: iso(NOW - 10 * DAY) }), org.keys.read, s.summaryResponse);
      expect(Date.parse(onlyEnd.start_date)).toBe(NOW - 30 * DAY);
    });

    it('summary of an empty range: numbers, never null (the hourly path answers 0 for average, min and max)', async () => {
      const body = await ok(t.app, alias('summary', { start_date: iso(NOW - 90 * DAY), end_date: iso(NOW - 80 * DAY) }), org.keys.read, s.summaryResponse);
      for (const item of body.summary) {
        for (const field of ['total_value', 'average_value', 'min_value', 'max_value'] as const) expect(item[field], `${item.metric_name}.${field}`).toBe(0);
      }
    });

    it('series: project and tag are always strings (EventMetricsHourly.project/tag default to "default"/"")', async () => {
      const body = await ok(t.app, alias('series', { start_date: iso(NOW - 7 * DAY), end_date: iso(NOW) }), org.keys.read, s.seriesResponse);
      expect(body.series.length).toBeGreaterThan(0);
      for (const entry of body.series) expect([typeof entry.project, typeof entry.tag]).toEqual(['string', 'string']);
    });
  });

  describe('parameters every alias shares', () => {
    it('refresh bypasses the cache when it reads "true" in any case (cache.py: .lower() == "true"); other values are ignored, never a 400', async () => {
      const url = alias('overview', { start_date: iso(NOW - 7 * DAY), end_date: iso(NOW) });
      await getJson(t.app, url, org.keys.read);
      expect((await getJson(t.app, url, org.keys.read)).cache).toBe('hit');
      expect((await getJson(t.app, `${url}&refresh=TRUE`, org.keys.read)).cache).toBe('miss');
      const ignored = await getJson(t.app, `${url}&refresh=yes`, org.keys.read);
      expect([ignored.status, ignored.cache]).toEqual([200, 'hit']);
    });

    it('unknown parameters are ignored, as DRF ignores them; every path answers with and without its trailing slash', async () => {
      for (const path of ['overview', 'summary', 'series', 'live-summary', 'live-series', 'recent-activity', 'workflow-token-usage', 'health']) {
        const withSlash = await getJson(t.app, `/api/v1/unstract/${org.id}/metrics/${path}/?format_hint=x&page=2`, org.keys.read);
        expect(withSlash.status, path).toBe(200);
        expect((await getJson(t.app, `/api/v1/unstract/${org.id}/metrics/${path}`, org.keys.read)).status, path).toBe(200);
      }
    });

    it('an error names its reason in a top-level `message`, which useMetricsData.js shows (err.response.data.message)', async () => {
      const invalid = await getJson<{ message: string; error: { message: string } }>(t.app, alias('workflow-token-usage', { deployment_type: 'api' }), org.keys.read);
      expect(invalid.status).toBe(400);
      expect(invalid.body.message).toBe(invalid.body.error.message);
      expect(invalid.body.message).toMatch(/deployment_type/);
      const foreign = await getJson<{ message: string }>(t.app, `/api/v1/unstract/${uniqueId('other')}/metrics/overview/`, org.keys.read);
      expect(foreign.status).toBe(403);
      expect(typeof foreign.body.message).toBe('string');
    });

    it('health: checks.database and checks.cache are {status} objects (views.py _check_database, _check_cache)', async () => {
      const body = await ok(t.app, alias('health'), org.keys.read, s.healthResponse);
      expect(body).toMatchObject({ healthy: true, checks: { database: { status: 'ok' }, cache: { status: 'ok' } } });
    });
  });
});
