import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatesResponse, breakdownResponse, seriesResponse, summaryResponse } from '../../src/http/query.schemas.ts';
import type { MetricDefinition } from '../../src/domain/metrics/definition.ts';
import { uniqueId } from '../factories/index.ts';
import { dayLabel, distinctValues, expectDistinct, oracleEvents, type OracleEvent, type SentEvent } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, ingest, ok, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * Distinct counts through HTTP (issue 9 item 3): summary, series, breakdown and aggregates of
 * `active_users` and `active_workflows` equal the exact distinct count of the raw events for
 * ranges with mid-hour edges (finer tiers and raw events merged, never summed), over the
 * 25-hour Europe/Zurich day and in Asia/Kolkata (UTC+05:30), with duplicates sent twice.
 */

/** A custom unique metric with a dimension, declared as a config file would. */
const LLM_USERS: MetricDefinition = {
  name: 'llm_users', kind: 'unique', event: 'llm_call', value: 'user_id', dimensions: ['model'],
  unit: 'users', category: 'llm', description: 'Distinct users calling an LLM',
};

function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Users and workflows over 2026-10-01 … 2026-11-10, dense around the Zurich fall-back night. */
function distinctDataset(seed: number, idPrefix: string): SentEvent[] {
  const next = lcg(seed);
  const events: SentEvent[] = [];
  const from = Date.parse('2026-10-01T00:00:00Z');
  const to = Date.parse('2026-11-10T00:00:00Z');
  const dense = { from: Date.parse('2026-10-24T18:00:00Z'), to: Date.parse('2026-10-26T06:00:00Z') };
  const push = (i: number, ts: number, pool: number) => {
    const type = ['llm_call', 'api_request', 'chat_message', 'workflow_execution'][i % 4]!;
    const event: SentEvent = { id: `${idPrefix}-${i}`, type, timestamp: new Date(ts).toISOString() };
    if (next() < 0.3) event['project'] = 'alpha';
    const user = Math.floor(next() * pool);
    if (type === 'workflow_execution') Object.assign(event, { workflow_id: `wf-${user % 40}`, pipeline_type: 'api', status: 'COMPLETED' });
    else event['user_id'] = `u${user}`;
    if (type === 'llm_call') Object.assign(event, { model: next() < 0.5 ? 'gpt-4o' : 'claude-3-5-sonnet', usage_type: 'llm', cost_usd: 0.01 });
    if (type === 'api_request') Object.assign(event, { endpoint: '/v1/x', status_code: 200, latency_ms: 5 });
    if (type === 'chat_message') Object.assign(event, { kb_id: 'kb1', response_time_ms: 30 });
    events.push(event);
  };
  let i = 0;
  for (; i < 3000; i += 1) push(i, from + Math.floor(next() * (to - from)), 300);
  for (; i < 9000; i += 1) push(i, dense.from + Math.floor(next() * (dense.to - dense.from)), 4000);
  // Every tenth event sent again (an exact duplicate): counted once.
  return [...events, ...events.filter((_, k) => k % 10 === 0)];
}

const CASES = [
  { zone: 'Europe/Zurich', start: '2026-10-24T10:17:23+02:00', end: '2026-10-26T15:42:05+01:00', day: '2026-10-25' },
  { zone: 'Asia/Kolkata', start: '2026-10-03T07:45:00+05:30', end: '2026-11-06T21:15:00+05:30', day: '2026-10-25' },
];

describe.each(ENGINES)('distinct counts through HTTP (%s)', (engine) => {
  let t: QueryTestContext;
  const orgs: Array<{ org: TestOrg; events: OracleEvent[]; zone: string }> = [];

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { custom: [LLM_USERS] });
    for (const [n, { zone }] of CASES.entries()) {
      const org = await createOrg(t.app, { id: uniqueId('distinct'), timezone: zone });
      const sent = distinctDataset(31 + n, org.id);
      await ingest(t.app, org, sent);
      orgs.push({ org, events: oracleEvents(sent), zone });
    }
    await aggregate(t.ctx);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('summary with mid-hour edges equals the exact distinct count ($zone)', async ({ i, start, end }) => {
    const { org, events } = orgs[i]!;
    for (const source of ['auto', 'hourly', 'daily']) {
      const body = await ok(t.app, `/api/v1/orgs/${org.id}/summary?${query({ start, end, source, metric: 'active_users,active_workflows' })}`, org.keys.read, summaryResponse);
      for (const item of body.summary) {
        const exact = distinctValues(events, item.metric_name, Date.parse(start), Date.parse(end));
        expectDistinct(item.total_value, exact.size, `${item.metric_name} ${source}`);
      }
      const filtered = await ok(t.app, `/api/v1/orgs/${org.id}/summary?${query({ start, end, source, project: 'alpha', metric: 'active_users' })}`, org.keys.read, summaryResponse);
      expectDistinct(filtered.summary[0]!.total_value, distinctValues(events, 'active_users', Date.parse(start), Date.parse(end), { project: 'alpha' }).size, `project ${source}`);
    }
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('daily series and aggregates: each day and the total are distinct counts, not sums ($zone)', async ({ i, start, end, zone }) => {
    const { org, events } = orgs[i]!;
    const series = await ok(t.app, `/api/v1/orgs/${org.id}/series?${query({ start, end, granularity: 'day', metric: 'active_users' })}`, org.keys.read, seriesResponse);
    const entry = series.series[0]!;
    const from = Date.parse(start);
    const to = Date.parse(end);
    let summed = 0;
    for (const pointValue of entry.data) {
      const label = pointValue.timestamp.slice(0, 10);
      const dayEvents = events.filter((e) => e.ts >= from && e.ts < to && dayLabel(e.ts, zone) === label);
      expectDistinct(pointValue.value, distinctValues(dayEvents, 'active_users', from, to).size, `day ${label}`);
      summed += pointValue.value;
    }
    const exactTotal = distinctValues(events, 'active_users', from, to).size;
    expectDistinct(entry.total_value, exactTotal, 'series total');
    expect(summed).toBeGreaterThan(exactTotal * 1.05);

    const aggregates = await ok(t.app, `/api/v1/orgs/${org.id}/aggregates?${query({ start, end, granularity: 'day', metric: 'active_users' })}`, org.keys.read, aggregatesResponse);
    expect(aggregates.rows.length).toBe(entry.data.filter((p) => p.count > 0).length);
    for (const row of aggregates.rows) {
      const pointValue = entry.data.find((p) => p.timestamp === row.bucket_time)!;
      expect(row.sum_value).toBe(pointValue.value);
      expect(row.count).toBe(pointValue.count);
    }
  });

  it('the 25-hour Zurich day counts each user once across both 02:00 hours', async () => {
    const { org, events } = orgs[0]!;
    const body = await ok(t.app, `/api/v1/orgs/${org.id}/summary?${query({ start: '2026-10-25', end: '2026-10-26', metric: 'active_users' })}`, org.keys.read, summaryResponse);
    const exact = distinctValues(events, 'active_users', Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z')).size;
    expect(exact).toBeGreaterThan(1000);
    expectDistinct(body.summary[0]!.total_value, exact, 'DST day');
    const hourly = await ok(t.app, `/api/v1/orgs/${org.id}/series?${query({ start: '2026-10-25', end: '2026-10-26', granularity: 'hour', metric: 'active_users' })}`, org.keys.read, seriesResponse);
    expect(hourly.series[0]!.data).toHaveLength(25);
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('breakdown by model counts distinct LLM users per model ($zone)', async ({ i }) => {
    const { org, events } = orgs[i]!;
    const start = '2026-10-10T03:10:00Z';
    const end = '2026-10-30T17:50:00Z';
    const body = await ok(t.app, `/api/v1/orgs/${org.id}/breakdown?${query({ start, end, metric: 'llm_users', dimension: 'model' })}`, org.keys.read, breakdownResponse);
    expect(body.items.map((item) => item.value).sort()).toEqual(['claude-3-5-sonnet', 'gpt-4o']);
    for (const item of body.items) {
      const calls = events.filter((e) => e.type === 'llm_call' && e.attrs['model'] === item.value);
      const exact = new Set(calls.filter((e) => e.ts >= Date.parse(start) && e.ts < Date.parse(end)).map((e) => String(e.attrs['user_id']))).size;
      expectDistinct(item.total_value, exact, `model ${item.value}`);
    }
  });
});
