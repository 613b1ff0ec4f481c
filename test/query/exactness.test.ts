import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesResponse, summaryResponse, aggregatesResponse, breakdownResponse } from '../../src/http/query.schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { generateDataset } from './dataset.ts';
import { checkSeries, checkSummary, METRIC_LIST } from './checks.ts';
import { dayLabel, expectClose, expectQuantile, groupBy, hourLabel, monthLabel, oracleEvents, readings, total, weekLabel, within, type OracleEvent } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, ok, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * Totals, series and percentiles through HTTP equal an oracle computed from the raw events,
 * for ranges that start and end mid-hour, for the 25-hour Europe/Zurich day, across month
 * boundaries, for every forced source, for live endpoints and with project/tag filters.
 */

const ZONE = 'Europe/Zurich';
describe.each(ENGINES)('query exactness through HTTP (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let events: OracleEvent[];
  const base = () => `/api/v1/orgs/${org.id}`;

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('zurich'), timezone: ZONE });
    const other = await createOrg(t.app, { id: uniqueId('other'), timezone: 'UTC' });
    const sent = generateDataset(7, org.id);
    await ingest(t.app, org, sent);
    // A second organization with data in the same hours must never leak into the first.
    await ingest(t.app, other, generateDataset(11, other.id));
    await aggregate(t.ctx);
    events = oracleEvents(sent);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  const summaryCases = [
    { name: 'starts and ends mid-hour across the DST change', start: '2026-10-24T10:17:23+02:00', end: '2026-10-26T15:42:05+01:00' },
    { name: 'spans months with mid-hour edges', start: '2026-08-27T13:30:00Z', end: '2026-11-18T08:15:30Z' },
    { name: 'is one aligned local month', start: '2026-09-01T00:00:00+02:00', end: '2026-10-01T00:00:00+02:00' },
    { name: 'lies inside one hour', start: '2026-10-25T01:05:00Z', end: '2026-10-25T01:50:00Z' },
  ];
  for (const source of ['auto', 'hourly', 'daily', 'monthly']) {
    it.each(summaryCases)(`summary (source=${source}) equals the oracle when the range $name`, async ({ start, end }) => {
      const body = await ok(t.app, `${base()}/summary?${query({ start, end, source, metric: METRIC_LIST })}`, org.keys.read, summaryResponse);
      checkSummary(body, events, Date.parse(start), Date.parse(end));
    });
  }

  it('summary of the 25-hour Europe/Zurich day (bare local dates) equals the oracle', async () => {
    const body = await ok(t.app, `${base()}/summary?${query({ start: '2026-10-25', end: '2026-10-26', metric: METRIC_LIST })}`, org.keys.read, summaryResponse);
    const from = Date.parse('2026-10-24T22:00:00Z');
    const to = Date.parse('2026-10-25T23:00:00Z');
    expect(to - from).toBe(25 * 3_600_000);
    expect(body.start_date).toBe('2026-10-25T00:00:00+02:00');
    expect(body.end_date).toBe('2026-10-26T00:00:00+01:00');
    checkSummary(body, events, from, to);
    const daily = await ok(t.app, `${base()}/summary?${query({ start: '2026-10-25', end: '2026-10-26', metric: METRIC_LIST, source: 'daily' })}`, org.keys.read, summaryResponse);
    expect(daily.source).toBe('daily');
    checkSummary(daily, events, from, to);
  });

  it('summary with project and tag filters equals the oracle', async () => {
    const start = '2026-10-22T08:20:00Z';
    const end = '2026-10-28T19:40:00Z';
    const body = await ok(t.app, `${base()}/summary?${query({ start, end, project: 'alpha', tag: 'beta', metric: METRIC_LIST })}`, org.keys.read, summaryResponse);
    checkSummary(body, events, Date.parse(start), Date.parse(end), { project: 'alpha', tag: 'beta' });
  });

  it('live-summary answers from raw events and equals the oracle', async () => {
    const start = '2026-10-24T10:17:23+02:00';
    const end = '2026-10-26T15:42:05+01:00';
    const body = await ok(t.app, `${base()}/live-summary?${query({ start, end, metric: METRIC_LIST })}`, org.keys.read, summaryResponse);
    expect(body.source).toBe('live');
    checkSummary(body, events, Date.parse(start), Date.parse(end));
  });

  it('hourly series over the 25-hour day has 25 points, both 02:00 hours apart, equal to the oracle', async () => {
    const url = `${base()}/series?${query({ start: '2026-10-25', end: '2026-10-26', granularity: 'hour', metric: METRIC_LIST })}`;
    const body = await ok(t.app, url, org.keys.read, seriesResponse);
    for (const entry of body.series) expect(entry.data).toHaveLength(25);
    const timestamps = body.series[0]!.data.map((p) => p.timestamp);
    expect(timestamps.slice(2, 4)).toEqual(['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00']);
    checkSeries(body, events, Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z'), (ts) => hourLabel(ts, ZONE), (s) => s);
  });

  it.each(['auto', 'hourly', 'daily'])('daily series with mid-hour edges equals the oracle (source=%s)', async (source) => {
    const start = '2026-10-20T06:30:00+02:00';
    const end = '2026-10-29T18:45:00+01:00';
    const body = await ok(t.app, `${base()}/series?${query({ start, end, granularity: 'day', source, metric: METRIC_LIST })}`, org.keys.read, seriesResponse);
    expect(body.series[0]!.data).toHaveLength(10);
    checkSeries(body, events, Date.parse(start), Date.parse(end), (ts) => dayLabel(ts, ZONE), (s) => s.slice(0, 10));
  });

  it('weekly and monthly series from a monthly source equal the oracle', async () => {
    const start = '2026-08-26T11:11:00Z';
    const end = '2026-11-18T22:22:00Z';
    const weekly = await ok(t.app, `${base()}/series?${query({ start, end, granularity: 'week', source: 'monthly', metric: METRIC_LIST })}`, org.keys.read, seriesResponse);
    checkSeries(weekly, events, Date.parse(start), Date.parse(end), (ts) => weekLabel(ts, ZONE), (s) => s.slice(0, 10));
    const monthly = await ok(t.app, `${base()}/series?${query({ start, end, granularity: 'month', metric: METRIC_LIST })}`, org.keys.read, seriesResponse);
    expect(monthly.source).toBe('daily');
    expect(monthly.series[0]!.data.map((p) => p.timestamp)).toEqual([
      '2026-08-01T00:00:00+02:00',
      '2026-09-01T00:00:00+02:00',
      '2026-10-01T00:00:00+02:00',
      '2026-11-01T00:00:00+01:00',
    ]);
    checkSeries(monthly, events, Date.parse(start), Date.parse(end), (ts) => monthLabel(ts, ZONE), (s) => s.slice(0, 7));
  });

  it('live-series equals the stored series point for point', async () => {
    const params = { start: '2026-10-24T10:17:23+02:00', end: '2026-10-26T15:42:05+01:00', granularity: 'hour', metric: METRIC_LIST };
    const stored = await ok(t.app, `${base()}/series?${query(params)}`, org.keys.read, seriesResponse);
    const live = await ok(t.app, `${base()}/live-series?${query(params)}`, org.keys.read, seriesResponse);
    expect(live.partial_errors).toEqual([]);
    checkSeries(live, events, Date.parse(params.start), Date.parse(params.end), (ts) => hourLabel(ts, ZONE), (s) => s);
    expect(live.series.map((e) => e.data.map((p) => [p.timestamp, p.count]))).toEqual(stored.series.map((e) => e.data.map((p) => [p.timestamp, p.count])));
  });

  it('series by dimension gives one entry per value, each equal to the oracle; fill=none drops empty points', async () => {
    const start = '2026-10-23T07:45:00Z';
    const end = '2026-10-27T21:15:00Z';
    const body = await ok(t.app, `${base()}/series?${query({ start, end, granularity: 'day', metric: 'requests', dimension: 'status_code', fill: 'none' })}`, org.keys.read, seriesResponse);
    const list = within(readings(events, 'requests'), Date.parse(start), Date.parse(end));
    const byStatus = groupBy(list, (r) => String(r.event.attrs['status_code']));
    expect(new Set(body.series.map((e) => e.dimension_value))).toEqual(new Set(byStatus.keys()));
    for (const entry of body.series) {
      expect(entry.dimension).toBe('status_code');
      const mine = byStatus.get(entry.dimension_value!)!;
      expect(entry.total_count).toBe(mine.length);
      const perDay = groupBy(mine, (r) => dayLabel(r.ts, ZONE));
      expect(entry.data.map((p) => [p.timestamp.slice(0, 10), p.count])).toEqual([...perDay.entries()].map(([day, rs]) => [day, rs.length]));
    }
  });

  it('breakdown lists the top values largest first, equal to the oracle', async () => {
    const start = '2026-09-03T09:09:00Z';
    const end = '2026-11-11T10:10:00Z';
    const body = await ok(t.app, `${base()}/breakdown?${query({ start, end, metric: 'request_cost_usd', dimension: 'country', limit: 3 })}`, org.keys.read, breakdownResponse);
    const byCountry = [...groupBy(within(readings(events, 'request_cost_usd'), Date.parse(start), Date.parse(end)), (r) => String(r.event.attrs['country'])).entries()]
      .map(([value, rs]) => ({ value, total: total('request_cost_usd', rs) }))
      .sort((a, b) => b.total.sum - a.total.sum)
      .slice(0, 3);
    expect(body.items.map((item) => item.value)).toEqual(byCountry.map((c) => c.value));
    body.items.forEach((item, i) => {
      expectClose(item.total_value, byCountry[i]!.total.sum, `cost in ${item.value}`);
      expect(item.total_count).toBe(byCountry[i]!.total.count);
    });
  });

  // ADR 0006: dimension rollups span every project and tag, so these are answered from raw events; still exact.
  it('breakdown with a project filter equals the oracle over that project only', async () => {
    const start = '2026-09-03T09:09:00Z';
    const end = '2026-11-11T10:10:00Z';
    const body = await ok(t.app, `${base()}/breakdown?${query({ start, end, metric: 'request_cost_usd', dimension: 'country', project: 'alpha', limit: 50 })}`, org.keys.read, breakdownResponse);
    const mine = within(readings(events, 'request_cost_usd', { project: 'alpha' }), Date.parse(start), Date.parse(end));
    const everyone = within(readings(events, 'request_cost_usd'), Date.parse(start), Date.parse(end));
    // The filter must bite: the project's totals differ from the whole organization's.
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.length).toBeLessThan(everyone.length);
    const byCountry = groupBy(mine, (r) => String(r.event.attrs['country']));
    expect(new Set(body.items.map((item) => item.value))).toEqual(new Set(byCountry.keys()));
    for (const item of body.items) {
      const expected = total('request_cost_usd', byCountry.get(item.value)!);
      expectClose(item.total_value, expected.sum, `cost in ${item.value}`);
      expect(item.total_count).toBe(expected.count);
    }
  });

  it('series by dimension with project and tag filters equals the oracle point for point', async () => {
    const start = '2026-10-23T07:45:00Z';
    const end = '2026-10-27T21:15:00Z';
    const filter = { project: 'alpha', tag: 'beta' };
    const body = await ok(t.app, `${base()}/series?${query({ start, end, granularity: 'day', metric: 'requests', dimension: 'status_code', fill: 'none', ...filter })}`, org.keys.read, seriesResponse);
    const list = within(readings(events, 'requests', filter), Date.parse(start), Date.parse(end));
    expect(list.length).toBeGreaterThan(0);
    const byStatus = groupBy(list, (r) => String(r.event.attrs['status_code']));
    expect(new Set(body.series.map((e) => e.dimension_value))).toEqual(new Set(byStatus.keys()));
    for (const entry of body.series) {
      expect(entry).toMatchObject({ project: 'alpha', tag: 'beta', dimension: 'status_code' });
      const mine = byStatus.get(entry.dimension_value!)!;
      expect(entry.total_count).toBe(mine.length);
      const perDay = groupBy(mine, (r) => dayLabel(r.ts, ZONE));
      expect(entry.data.map((p) => [p.timestamp.slice(0, 10), p.count])).toEqual([...perDay.entries()].map(([day, rs]) => [day, rs.length]));
    }
  });

  it('refuses (400, naming the filter) a scoped dimension question reaching past raw retention, rather than miss events', async () => {
    // QUERY_NOW is 2026-11-20; raw events are kept 90 days, so 2026-08-01 is past them.
    const params = { start: '2026-08-01T00:00:00Z', end: '2026-10-01T00:00:00Z', metric: 'requests', dimension: 'status_code', project: 'alpha' };
    const answer = await getJson<{ error: { code: string; message: string } }>(t.app, `${base()}/breakdown?${query(params)}`, org.keys.read);
    expect(answer.status, answer.raw).toBe(400);
    expect(answer.body.error.code).toBe('validation');
    expect(answer.body.error.message).toContain('project');
    // Without the filter the same range is answered from rollups.
    const { project: _dropped, ...unscoped } = params;
    await ok(t.app, `${base()}/breakdown?${query(unscoped)}`, org.keys.read, breakdownResponse);
  });

  it('aggregates by dimension with a tag filter keep exact percentiles per bucket and value', async () => {
    const start = '2026-10-24T00:00:00+02:00';
    const end = '2026-10-27T00:00:00+01:00';
    const body = await ok(t.app, `${base()}/aggregates?${query({ start, end, metric: 'request_latency_ms', granularity: 'day', dimension: 'model', tag: 'beta' })}`, org.keys.read, aggregatesResponse);
    const list = within(readings(events, 'request_latency_ms', { tag: 'beta' }), Date.parse(start), Date.parse(end));
    const groups = groupBy(list, (r) => `${dayLabel(r.ts, ZONE)}|${r.event.attrs['model']}`);
    expect(groups.size).toBeGreaterThan(0);
    expect(body.rows).toHaveLength(groups.size);
    for (const row of body.rows) {
      const expected = total('request_latency_ms', groups.get(`${row.bucket_time.slice(0, 10)}|${row.dimension_value}`)!);
      expect(row.count).toBe(expected.count);
      expectClose(row.sum_value, expected.sum, 'sum');
      expectClose(row.min_value, expected.min, 'min');
      expectClose(row.max_value, expected.max, 'max');
      expectQuantile(row.p50_value, expected.sorted, 0.5, 'p50');
      expectQuantile(row.p99_value, expected.sorted, 0.99, 'p99');
    }
  });

  it('aggregates rows (seed 003 shape) with percentiles equal the oracle per bucket and dimension value', async () => {
    const start = '2026-10-24T00:00:00+02:00';
    const end = '2026-10-27T00:00:00+01:00';
    const body = await ok(t.app, `${base()}/aggregates?${query({ start, end, metric: 'request_latency_ms', granularity: 'day', dimension: 'model' })}`, org.keys.read, aggregatesResponse);
    const list = within(readings(events, 'request_latency_ms'), Date.parse(start), Date.parse(end));
    const groups = groupBy(list, (r) => `${dayLabel(r.ts, ZONE)}|${r.event.attrs['model']}`);
    expect(body.rows).toHaveLength(groups.size);
    for (const row of body.rows) {
      expect(row).toMatchObject({ granularity: 'day', metric_name: 'request_latency_ms', dimension_type: 'model' });
      const expected = total('request_latency_ms', groups.get(`${row.bucket_time.slice(0, 10)}|${row.dimension_value}`)!);
      expect(row.count).toBe(expected.count);
      expectClose(row.sum_value, expected.sum, 'sum');
      expectClose(row.min_value, expected.min, 'min');
      expectClose(row.max_value, expected.max, 'max');
      expectClose(row.avg_value, expected.sum / expected.count, 'avg');
      expectQuantile(row.p50_value, expected.sorted, 0.5, 'p50');
      expectQuantile(row.p99_value, expected.sorted, 0.99, 'p99');
    }
  });
});
