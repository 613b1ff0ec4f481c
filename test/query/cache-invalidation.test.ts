import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { compareResponse, seriesResponse, summaryResponse } from '../../src/http/query.schemas.ts';
import type { Cache } from '../../src/ports/cache.ts';
import { uniqueId } from '../factories/index.ts';
import type { SentEvent } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, query, QUERY_NOW, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * Cached answers are never stale after a rollup rewrite: a late event into an old hour plus
 * one aggregation pass shows up in the very next identical query. Entries touching the
 * current hour live at most 30 s; filters are part of the key.
 */

function recordingCache(): Cache & { ttls: Map<string, number> } {
  const inner = createMemoryCache();
  const ttls = new Map<string, number>();
  return {
    ttls,
    get: (key) => inner.get(key),
    set: async (key, value, ttl) => {
      ttls.set(key, ttl);
      await inner.set(key, value, ttl);
    },
    health: () => inner.health(),
    close: () => inner.close(),
  };
}

let sequence = 0;
function request(ts: string, extra: Record<string, string | number> = {}): SentEvent {
  sequence += 1;
  return { id: `late-${sequence}-${uniqueId('e')}`, type: 'api_request', timestamp: ts, status_code: 200, latency_ms: 100 + sequence, model: 'gpt-4o', country: 'CH', cost_usd: 0.01, ...extra };
}

describe.each(ENGINES)('cache invalidation (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let cache: ReturnType<typeof recordingCache>;
  const base = () => `/api/v1/orgs/${org.id}`;

  beforeAll(async () => {
    cache = recordingCache();
    t = await createQueryTestContext(engine, { cache });
    org = await createOrg(t.app, { id: uniqueId('cache'), timezone: 'UTC' });
    await ingest(t.app, org, [
      request('2026-11-10T10:05:00Z'),
      request('2026-11-10T10:40:00Z', { status_code: 500 }),
      request('2026-11-10T14:00:00Z', { project: 'alpha' }),
      request('2026-11-12T09:00:00Z'),
    ]);
    await aggregate(t.ctx);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const total = (body: unknown, metric: string) => summaryResponse.parse(body).summary.find((item) => item.metric_name === metric)!.total_value;

  it('a late event into an old hour plus one aggregation pass is in the very next identical query', async () => {
    const url = `${base()}/summary?${query({ start: '2026-11-10T00:00:00Z', end: '2026-11-11T00:00:00Z', metric: 'requests,request_errors' })}`;
    const first = await getJson(t.app, url, org.keys.read);
    expect(first.status).toBe(200);
    expect(first.cache).toBe('miss');
    expect(total(first.body, 'requests')).toBe(3);
    const second = await getJson(t.app, url, org.keys.read);
    expect(second.cache).toBe('hit');
    expect(second.raw).toBe(first.raw);

    await ingest(t.app, org, [request('2026-11-10T10:30:00Z', { status_code: 503 })]);
    // Until the aggregator has rewritten the hour, the cached answer is still the one served.
    expect((await getJson(t.app, url, org.keys.read)).cache).toBe('hit');

    await aggregate(t.ctx);
    const after = await getJson(t.app, url, org.keys.read);
    expect(after.cache).toBe('miss');
    expect(total(after.body, 'requests')).toBe(4);
    expect(total(after.body, 'request_errors')).toBe(2);
  });

  it('series and compare over the rewritten day are fresh after the same pass', async () => {
    const seriesUrl = `${base()}/series?${query({ start: '2026-11-09', end: '2026-11-13', granularity: 'day', metric: 'requests' })}`;
    const compareUrl = `${base()}/compare?${query({ date: '2026-11-10', metric: 'requests' })}`;
    const before = seriesResponse.parse((await getJson(t.app, seriesUrl, org.keys.read)).body);
    const compareBefore = compareResponse.parse((await getJson(t.app, compareUrl, org.keys.read)).body);
    await ingest(t.app, org, [request('2026-11-10T03:15:00Z')]);
    await aggregate(t.ctx);
    const after = seriesResponse.parse((await getJson(t.app, seriesUrl, org.keys.read)).body);
    expect(after.series[0]!.data[1]!.value).toBe(before.series[0]!.data[1]!.value + 1);
    const compareAfter = compareResponse.parse((await getJson(t.app, compareUrl, org.keys.read)).body);
    expect(compareAfter.metrics[0]!.current).toBe(compareBefore.metrics[0]!.current! + 1);
  });

  it('project and tag filters are part of the cache key', async () => {
    const range = { start: '2026-11-10T00:00:00Z', end: '2026-11-11T00:00:00Z', metric: 'requests' };
    const all = await getJson(t.app, `${base()}/summary?${query(range)}`, org.keys.read);
    const alpha = await getJson(t.app, `${base()}/summary?${query({ ...range, project: 'alpha' })}`, org.keys.read);
    const beta = await getJson(t.app, `${base()}/summary?${query({ ...range, tag: 'beta' })}`, org.keys.read);
    expect(total(alpha.body, 'requests')).toBe(1);
    expect(total(beta.body, 'requests')).toBe(0);
    expect(total(all.body, 'requests')).toBeGreaterThan(1);
  });

  it('answers that touch the current hour are cached at most 30 s; older ones longer', async () => {
    cache.ttls.clear();
    await getJson(t.app, `${base()}/summary?${query({ start: '2026-11-20T08:00:00Z', end: new Date(QUERY_NOW + 60_000).toISOString() })}`, org.keys.read);
    await getJson(t.app, `${base()}/summary?${query({ start: '2026-11-19T08:00:00Z' })}`, org.keys.read);
    await getJson(t.app, `${base()}/dashboard?range=24h`, org.keys.read);
    expect([...cache.ttls.values()]).toEqual([30, 30, 30]);
    cache.ttls.clear();
    // Ending exactly where the current hour begins: nothing of the current hour is in it.
    await getJson(t.app, `${base()}/summary?${query({ start: '2026-11-01T00:00:00Z', end: new Date(QUERY_NOW).toISOString() })}`, org.keys.read);
    expect([...cache.ttls.values()][0]).toBeGreaterThan(30);
  });

  it('refresh=true recomputes and the read key of the org sees its data only', async () => {
    const url = `${base()}/summary?${query({ start: '2026-11-12T00:00:00Z', end: '2026-11-13T00:00:00Z', metric: 'requests' })}`;
    await getJson(t.app, url, org.keys.read);
    const refreshed = await getJson(t.app, `${url}&refresh=true`, org.keys.read);
    expect(refreshed.cache).toBe('miss');
    const other = await createOrg(t.app, { id: uniqueId('cache-other'), timezone: 'UTC' });
    const theirs = await getJson(t.app, url.replace(org.id, other.id), other.keys.read);
    expect(total(theirs.body, 'requests')).toBe(0);
  });
});
