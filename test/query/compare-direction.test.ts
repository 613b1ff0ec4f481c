import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResponse, overviewResponse } from '../../src/http/query.schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { seededRandom } from '../unit/domain/random.ts';
import { expectQuantile } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, ok, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * The compare fixes of issue 10 against an oracle computed here from the raw events: a
 * distribution is compared by its average (p95 alongside), a change is coloured by the metric's
 * good direction, and metrics without data on any compared day are hidden unless asked for.
 */

const ZONE = 'Asia/Kolkata';
const DAY = '2026-06-10';
const YESTERDAY = '2026-06-09';
const WEEK_AGO = '2026-06-03';
const NOW = Date.parse('2026-06-11T09:00:00Z');

interface Req {
  day: string;
  latency: number;
  status: number;
}

function sent(reqs: readonly Req[], random: () => number) {
  return reqs.map((r, i) => ({
    id: `r-${r.day}-${i}`,
    type: 'api_request',
    // Local noon ± a few hours, inside the local day.
    timestamp: new Date(Date.parse(`${r.day}T12:00:00+05:30`) + Math.floor(random() * 6 - 3) * 3_600_000).toISOString(),
    endpoint: '/v1/x',
    method: 'GET',
    status_code: r.status,
    latency_ms: r.latency,
    country: 'CH',
  }));
}

const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

describe.each(ENGINES)('compare: averages, direction and empty rows (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let reqs: Req[];

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { now: NOW });
    org = await createOrg(t.app, { id: uniqueId('cmpdir'), timezone: ZONE });
    const random = seededRandom(1010);
    reqs = [];
    // The compared day: few but slow requests, many errors; the day before: busy and fast.
    for (const latency of [100, 200, 300, 400]) reqs.push({ day: DAY, latency, status: latency >= 300 ? 500 : 200 });
    for (let i = 0; i < 40; i++) reqs.push({ day: YESTERDAY, latency: 20 + Math.floor(random() * 60), status: i === 0 ? 503 : 200 });
    for (let i = 0; i < 10; i++) reqs.push({ day: WEEK_AGO, latency: 250 + i * 10, status: i < 3 ? 404 : 200 });
    await ingest(t.app, org, sent(reqs, random));
    await aggregate(t.ctx);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const on = (day: string) => reqs.filter((r) => r.day === day);

  it('compares request latency by its average, with p95 alongside, not by a sum that grows with traffic', async () => {
    const body = await ok(t.app, `/api/v1/orgs/${org.id}/compare?date=${DAY}`, org.keys.read, compareResponse);
    const latency = body.metrics.find((m) => m.metric_name === 'request_latency_ms')!;
    const today = on(DAY).map((r) => r.latency);
    const before = on(YESTERDAY).map((r) => r.latency);
    const weekAgo = on(WEEK_AGO).map((r) => r.latency);
    expect(latency.kind).toBe('distribution');
    expect(latency.good_direction).toBe('down');
    expect(latency.current).toBeCloseTo(average(today), 6);
    expectQuantile(latency.p95, sorted(today), 0.95, 'p95 today');
    const vsYesterday = latency.comparisons['1'];
    expect(vsYesterday.previous).toBeCloseTo(average(before), 6);
    expectQuantile(vsYesterday.previous_p95, sorted(before), 0.95, 'p95 yesterday');
    // Fewer but slower requests: latency went up, which is bad news.
    expect(vsYesterday.direction).toBe(1);
    expect(vsYesterday.tone).toBe('bad');
    expect(vsYesterday.change_pct).toBeCloseTo(((average(today) - average(before)) / average(before)) * 100, 1);
    const vsWeek = latency.comparisons['7'];
    expect(vsWeek.previous).toBeCloseTo(average(weekAgo), 6);
    expect(vsWeek.direction).toBe(Math.sign(average(today) - average(weekAgo)));
    expect(vsWeek.tone).toBe(average(today) < average(weekAgo) ? 'good' : 'bad');
    // 30 days back has no event at all: N/A.
    expect(latency.comparisons['30']).toMatchObject({ previous: null, change: null, tone: 'neutral', previous_p95: null });
  });

  it('colours errors by their good direction: a rise is bad, a fall is good, the level only says how big', async () => {
    const body = await ok(t.app, `/api/v1/orgs/${org.id}/compare?date=${DAY}`, org.keys.read, compareResponse);
    const errors = body.metrics.find((m) => m.metric_name === 'request_errors')!;
    const requests = body.metrics.find((m) => m.metric_name === 'requests')!;
    const errorsOn = (day: string) => on(day).filter((r) => r.status >= 400).length;
    expect(errors.good_direction).toBe('down');
    expect(errors.current).toBe(errorsOn(DAY));
    expect(errors.comparisons['1']).toMatchObject({ previous: errorsOn(YESTERDAY), direction: 1, level: 'critical', tone: 'bad' });
    expect(errors.comparisons['7']).toMatchObject({ previous: errorsOn(WEEK_AGO), direction: -1, level: 'critical', tone: 'good' });
    // Requests fell against yesterday: "up is good", so bad news.
    expect(requests.comparisons['1']).toMatchObject({ previous: on(YESTERDAY).length, direction: -1, tone: 'bad' });
  });

  it('hides metrics without data on any compared day unless include_empty=true', async () => {
    const body = await ok(t.app, `/api/v1/orgs/${org.id}/compare?date=${DAY}`, org.keys.read, compareResponse);
    expect(body.metrics.map((m) => m.metric_name).sort()).toEqual(['request_errors', 'request_latency_ms', 'requests']);
    const all = await ok(t.app, `/api/v1/orgs/${org.id}/compare?date=${DAY}&include_empty=true`, org.keys.read, compareResponse);
    expect(all.metrics.length).toBeGreaterThan(20);
    expect(all.metrics.find((m) => m.metric_name === 'failed_pages')).toMatchObject({ current: 0, good_direction: 'down' });
    const bad = await getJson(t.app, `/api/v1/orgs/${org.id}/compare?date=${DAY}&include_empty=maybe`, org.keys.read);
    expect(bad.status).toBe(400);
    expect(bad.raw).toContain('include_empty');
  });

  it('trends a distribution by its daily average in the overview', async () => {
    const body = await ok(t.app, `/api/v1/orgs/${org.id}/overview?start=${WEEK_AGO}&end=2026-06-11&metric=request_latency_ms,requests`, org.keys.read, overviewResponse);
    const byDate = new Map(body.daily_trend.map((d) => [d.date.slice(0, 10), d.metrics]));
    expect(byDate.get(DAY)!['request_latency_ms']).toBeCloseTo(average(on(DAY).map((r) => r.latency)), 6);
    expect(byDate.get(YESTERDAY)!['request_latency_ms']).toBeCloseTo(average(on(YESTERDAY).map((r) => r.latency)), 6);
    expect(byDate.get(YESTERDAY)!['requests']).toBe(on(YESTERDAY).length);
    expect(byDate.get('2026-06-05')!['request_latency_ms']).toBeNull();
  });
});
