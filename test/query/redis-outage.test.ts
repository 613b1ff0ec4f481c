import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache } from '../../src/adapters/cache/redis-cache.ts';
import { healthResponse as unstractHealthResponse } from '../../src/unstract/schemas.ts';
import { uniqueId } from '../factories/index.ts';
import { startOwnRedisServer, waitFor, type OwnRedisServer } from '../contract/cache.redis-server.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, getJson, ingest, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * Server mode with a Redis the test owns: while it is stopped every query still answers 200
 * from the database and the cache reports itself degraded (seed 000 health and /ready);
 * once it is back, answers are cached again.
 */

describe.each(ENGINES)('queries while Redis is down (%s)', (engine) => {
  let redis: OwnRedisServer;
  let t: QueryTestContext;
  let org: TestOrg;
  const warnings: string[] = [];

  beforeAll(async () => {
    redis = await startOwnRedisServer();
    const log = { info: () => undefined, debug: () => undefined, error: () => undefined, warn: (_: object | string, msg?: string) => void warnings.push(msg ?? '') };
    const cache = createRedisCache({ url: redis.url, keyPrefix: `${uniqueId('outage')}:`, log, maxRetryDelayMs: 200 });
    t = await createQueryTestContext(engine, { cache });
    await waitFor(async () => (await t.ctx.cache.health()) === 'ok', 'redis cache to connect');
    org = await createOrg(t.app, { id: uniqueId('outage'), timezone: 'UTC' });
    await ingest(t.app, org, [
      { id: uniqueId('e'), type: 'api_request', timestamp: '2026-11-10T10:05:00Z', status_code: 200, latency_ms: 120, model: 'gpt-4o', country: 'CH', cost_usd: 0.01 },
      { id: uniqueId('e'), type: 'api_request', timestamp: '2026-11-10T11:05:00Z', status_code: 500, latency_ms: 800, model: 'gpt-4o', country: 'US', cost_usd: 0.02 },
    ]);
    await aggregate(t.ctx);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const urls = () => {
    const range = query({ start: '2026-11-10T00:00:00Z', end: '2026-11-11T00:00:00Z' });
    return [
      `/api/v1/orgs/${org.id}/summary?${range}&metric=requests`,
      `/api/v1/orgs/${org.id}/series?${range}&granularity=hour`,
      `/api/v1/orgs/${org.id}/dashboard?range=7d`,
      `/api/v1/unstract/${org.id}/metrics/overview/?start_date=2026-11-10&end_date=2026-11-10`,
    ];
  };

  it('answers 200 from the database while Redis is stopped, reports degraded, and caches again after a restart', async () => {
    const cached = new Map<string, string>();
    for (const url of urls()) {
      const first = await getJson(t.app, url, org.keys.read);
      expect(first.status, first.raw).toBe(200);
      const second = await getJson(t.app, url, org.keys.read);
      expect(second.cache).toBe('hit');
      cached.set(url, second.raw);
    }

    await redis.stop();
    await waitFor(async () => (await t.ctx.cache.health()) === 'degraded', 'the cache to notice the outage');
    for (let round = 0; round < 3; round += 1) {
      for (const url of urls()) {
        const answer = await getJson(t.app, url, org.keys.read);
        expect(answer.status, answer.raw).toBe(200);
        expect(answer.cache).toBe('miss');
        if (!url.includes('dashboard')) expect(answer.raw).toBe(cached.get(url));
      }
    }
    // As the original module does, the Unstract health alias counts a failing cache as unhealthy.
    const health = await getJson(t.app, `/api/v1/unstract/${org.id}/metrics/health/`, org.keys.read);
    expect(health.status).toBe(503);
    expect(unstractHealthResponse.parse(health.body)).toMatchObject({ healthy: false, checks: { database: { status: 'ok' }, cache: { status: 'error' } } });
    const ready = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { cache: 'degraded' } });
    expect(warnings).toHaveLength(1);

    await redis.start();
    await waitFor(async () => (await t.ctx.cache.health()) === 'ok', 'the cache to come back');
    for (const url of urls()) {
      expect((await getJson(t.app, url, org.keys.read)).cache).toBe('miss');
      const again = await getJson(t.app, url, org.keys.read);
      expect(again.cache).toBe('hit');
      if (!url.includes('dashboard')) expect(again.raw).toBe(cached.get(url));
    }
    expect(unstractHealthResponse.parse((await getJson(t.app, `/api/v1/unstract/${org.id}/metrics/health/`, org.keys.read)).body).checks.cache).toEqual({ status: 'ok' });
  }, 60_000);
});
