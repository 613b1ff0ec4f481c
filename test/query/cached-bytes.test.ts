import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { createNearCache } from '../../src/adapters/cache/near-cache.ts';
import { createRedisCache } from '../../src/adapters/cache/redis-cache.ts';
import type { Cache } from '../../src/ports/cache.ts';
import { waitFor } from '../contract/cache.redis-server.ts';
import { uniqueId } from '../factories/index.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, ingest, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * A cache hit sends the stored bytes as they are (ADR 0018): through a real socket, the body,
 * content-type and content-length of a hit must be those of the miss that stored it, with
 * either cache adapter and either engine. Dimension values outside ASCII make the byte length
 * differ from the text length, so a length counted in characters would show.
 */

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function getRaw(base: string, path: string, key: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { headers: { authorization: `Bearer ${key}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

async function readyRedis(): Promise<Cache> {
  const cache = createRedisCache({ url: SHARED_REDIS_URL, keyPrefix: `${uniqueId('bytes')}:` });
  await waitFor(async () => (await cache.health()) === 'ok', 'redis cache to connect');
  return cache;
}

const CACHES: Array<[string, () => Promise<Cache>]> = [
  ['memory LRU', async () => createMemoryCache()],
  ['redis', readyRedis],
  // Server mode's wiring (compose.ts): hits on this process's own answers come from memory.
  ['near LRU over redis', async () => createNearCache(await readyRedis())],
];

describe.each(ENGINES.flatMap((engine) => CACHES.map(([name, make]) => [engine, name, make] as const)))('cached answers on the wire (%s, %s)', (engine, _name, makeCache) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let base: string;

  beforeAll(async () => {
    t = await createQueryTestContext(engine, { cache: await makeCache() });
    org = await createOrg(t.app, { id: uniqueId('bytes'), timezone: 'Europe/Zurich' });
    const event = (i: number, model: string) => ({
      id: uniqueId(`e${i}`),
      type: 'api_request',
      timestamp: `2026-11-1${i % 5}T1${i % 10}:05:00Z`,
      status_code: i % 7 === 0 ? 500 : 200,
      latency_ms: 90 + i * 3.3,
      model,
      country: 'CH',
      cost_usd: 0.001 * i,
    });
    await ingest(t.app, org, [
      ...Array.from({ length: 30 }, (_, i) => event(i, i % 3 === 0 ? 'modèle-東京-✓' : i % 3 === 1 ? 'gpt-4o' : 'Zürich-σ')),
    ]);
    await aggregate(t.ctx);
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const range = () => query({ start: '2026-11-09T00:00:00Z', end: '2026-11-16T00:00:00Z' });
  const paths = () => [
    `/api/v1/orgs/${org.id}/summary?${range()}`,
    `/api/v1/orgs/${org.id}/series?${range()}&granularity=day`,
    `/api/v1/orgs/${org.id}/series?${range()}&granularity=hour&metric=requests&dimension=model`,
    `/api/v1/orgs/${org.id}/breakdown?${range()}&metric=requests&dimension=model`,
    `/api/v1/orgs/${org.id}/dashboard?range=custom&start=2026-11-09&end=2026-11-16`,
    `/api/v1/orgs/${org.id}/export.csv?${range()}&metric=requests&dimension=model`,
    `/api/v1/unstract/${org.id}/metrics/summary/?start_date=2026-11-09&end_date=2026-11-15`,
  ];

  it('a hit sends the very bytes and headers of the miss that stored it', async () => {
    for (const path of paths()) {
      const miss = await getRaw(base, path, org.keys.read);
      const hit = await getRaw(base, path, org.keys.read);
      expect(miss.status, `${path}: ${miss.body.toString()}`).toBe(200);
      expect(miss.headers['x-cache'], path).toBe('miss');
      expect(hit.headers['x-cache'], path).toBe('hit');
      expect(hit.body.equals(miss.body), path).toBe(true);
      expect(hit.headers['content-type'], path).toBe(miss.headers['content-type']);
      expect(hit.headers['content-length'], path).toBe(String(miss.body.length));
      expect(miss.headers['content-length'], path).toBe(String(miss.body.length));
      expect(miss.headers['content-encoding'], path).toBeUndefined();
      if (!path.includes('export.csv')) {
        expect(miss.headers['content-type'], path).toBe('application/json; charset=utf-8');
        // The bytes are UTF-8 JSON (a round trip through text changes nothing).
        expect(Buffer.from(JSON.stringify(JSON.parse(hit.body.toString('utf8'))), 'utf8').equals(hit.body), path).toBe(true);
      }
    }
    // Non-ASCII dimension values made it into the answers, so bytes and characters differ.
    const breakdown = await getRaw(base, paths()[3]!, org.keys.read);
    expect(breakdown.body.toString('utf8')).toContain('modèle-東京-✓');
    expect(breakdown.body.length).toBeGreaterThan(breakdown.body.toString('utf8').length);
  });
});
