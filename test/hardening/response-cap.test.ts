import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDrilldownRoutes } from '../../src/drilldown/routes.ts';
import { MAX_RESPONSE_BYTES, MAX_RESPONSE_POINTS } from '../../src/domain/response-cap.ts';
import { uniqueId } from '../factories/index.ts';
import { aggregate, bearer, createOrg, createQueryTestContext, ENGINES, ingest, QUERY_NOW, type QueryTestContext, type TestOrg } from '../query/support.ts';
import type { SentEvent } from '../query/oracle.ts';

/**
 * Finding 6 of issue 13 (cheap denial of service): `series` by hour over 365 days for every
 * metric answered 250,000 points (16.6 MB) to a read key. Answers now have a cap on points
 * (buckets × metrics × dimension values) checked from the plan before any data is read — the
 * storage is watched to prove it — and on bytes; a request over it gets a 400 that names what
 * to narrow. Through a real socket on every engine.
 */

const DAY = 86_400_000;
const TODAY = '2026-11-20'; // QUERY_NOW's UTC day: a bare end date is exclusive

interface ErrorBody {
  error: { code: string; message: string; details?: { issues: Array<{ field: string; message: string }> } };
}
interface SeriesBody {
  series: Array<{ metric_name: string; dimension_value?: string; data: Array<{ count: number }>; total_value: number }>;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Counts every call to the storage reads a query makes, so "refused before the work" is observable. */
function watchReads(t: QueryTestContext): { count: number } {
  const reads = { count: 0 };
  const watch = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property) {
        const value = Reflect.get(object, property) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          reads.count += 1;
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  t.ctx.rollupReader = watch(t.ctx.rollupReader);
  t.ctx.eventReader = watch(t.ctx.eventReader);
  return reads;
}

describe.each(ENGINES)('response cap (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let base: string;
  let reads: { count: number };
  const sent: SentEvent[] = [];

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { routes: [registerDrilldownRoutes] });
    org = await createOrg(t.app, { id: uniqueId('cap'), timezone: 'UTC' });
    // 80 days of data (raw retention is 90): pages every day, LLM calls on three models.
    for (let d = 1; d <= 80; d += 1) {
      const timestamp = new Date(QUERY_NOW - d * DAY).toISOString();
      sent.push({ id: `p${d}`, type: 'page_usage', timestamp, pages: d, failed_pages: 0 });
      sent.push({ id: `l${d}`, type: 'llm_call', timestamp, model: `model-${d % 3}`, usage_type: 'llm', input_tokens: 10, output_tokens: 5 });
    }
    await ingest(t.app, org, sent);
    await aggregate(t.ctx);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    reads = watchReads(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string) => fetch(`${base}/api/v1/orgs/${org.id}/${path}`, { headers: bearer(org.keys.read) });

  async function expectRefusedUnread(path: string, fields: string[]): Promise<ErrorBody> {
    const before = reads.count;
    const response = await get(path);
    expect(response.status, path).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe('validation');
    expect(body.error.message).toContain(`over the cap of ${MAX_RESPONSE_POINTS} per response`);
    expect(body.error.details?.issues.map((issue) => issue.field)).toEqual(fields);
    expect(reads.count - before, 'storage reads before the refusal').toBe(0);
    return body;
  }

  it("refuses the issue's probe (series by hour over 365 days, every metric) before reading any data", async () => {
    const start = isoDay(Date.parse(TODAY) - 365 * DAY);
    const body = await expectRefusedUnread(`series?start=${start}&end=${TODAY}&granularity=hour`, ['granularity', 'metric', 'start/end']);
    expect(body.error.message).toMatch(/8760 hour buckets × \d+ metrics/);
    expect(body.error.message).toMatch(/coarser granularity \(day, week or month\)/);
    await expectRefusedUnread(`live-series?start=${start}&end=${TODAY}&granularity=hour`, ['granularity', 'metric', 'start/end']);
    await expectRefusedUnread(`export.csv?start=${start}&end=${TODAY}&granularity=hour`, ['granularity', 'metric', 'start/end']);
  });

  it('counts the dimension values a caller keeps, and answers once the limit brings it under the cap', async () => {
    const start = isoDay(Date.parse(TODAY) - 365 * DAY);
    const path = `series?metric=llm_calls&dimension=model&start=${start}&end=${TODAY}&granularity=day`;
    const body = await expectRefusedUnread(path, ['granularity', 'limit', 'start/end']);
    expect(body.error.message).toContain('365 day buckets × 1 metric × 100 dimension values');

    const answer = await get(`${path}&limit=50`);
    expect(answer.status).toBe(200);
    const series = ((await answer.json()) as SeriesBody).series;
    const expected = new Map<string, number>();
    for (const event of sent) if (event.type === 'llm_call') expected.set(String(event['model']), (expected.get(String(event['model'])) ?? 0) + 1);
    expect(new Map(series.map((entry) => [entry.dimension_value!, entry.total_value]))).toEqual(expected);
    for (const entry of series) expect(entry.data).toHaveLength(365);
  });

  it('answers the largest query under the cap in full, and refuses one more bucket', async () => {
    const catalog = (await (await get('metrics')).json()) as { metrics: unknown[] };
    const metrics = catalog.metrics.length;
    const days = Math.floor(MAX_RESPONSE_POINTS / metrics);
    const start = isoDay(Date.parse(TODAY) - days * DAY);

    const answer = await get(`series?start=${start}&end=${TODAY}&granularity=day`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const series = (JSON.parse(text) as SeriesBody).series;
    expect(series).toHaveLength(metrics);
    expect(series.reduce((n, entry) => n + entry.data.length, 0)).toBe(days * metrics);
    const pages = sent.filter((e) => e.type === 'page_usage').reduce((sum, e) => sum + Number(e['pages']), 0);
    expect(series.find((entry) => entry.metric_name === 'pages_processed')!.total_value).toBe(pages);

    const csv = await get(`export.csv?start=${start}&end=${TODAY}&granularity=day`);
    expect(csv.status).toBe(200);
    expect((await csv.text()).trimEnd().split('\n')).toHaveLength(days * metrics + 1);

    const oneMore = isoDay(Date.parse(TODAY) - (days + 1) * DAY);
    await expectRefusedUnread(`series?start=${oneMore}&end=${TODAY}&granularity=day`, ['granularity', 'metric', 'start/end']);
  }, 60_000);

  it('ends a drill-down page early, with a cursor, before its events pass the byte cap', async () => {
    const bigOrg = await createOrg(t.app, { id: uniqueId('capbig'), timezone: 'UTC' });
    const big: SentEvent[] = [];
    for (let i = 0; i < 5; i += 1) {
      const event: SentEvent = { id: `big${i}`, type: 'blob_test', timestamp: new Date(QUERY_NOW - (i + 1) * 3_600_000).toISOString() };
      for (let a = 0; a < 150; a += 1) event[`attr_${a}`] = `${i}`.repeat(8000);
      big.push(event);
    }
    for (const pair of [big.slice(0, 2), big.slice(2, 4), big.slice(4)]) await ingest(t.app, bigOrg, pair);

    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await fetch(`${base}/api/v1/orgs/${bigOrg.id}/events?start=2026-11-19&limit=10${cursor ? `&cursor=${cursor}` : ''}`, { headers: bearer(bigOrg.keys.read) });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
      const page = JSON.parse(text) as { events: Array<{ id: string }>; next_cursor: string | null };
      expect(page.events.length).toBeGreaterThan(0);
      ids.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(ids).toEqual(big.map((e) => e.id));
  }, 120_000);
});
