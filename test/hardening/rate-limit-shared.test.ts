import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRateLimitRedis } from '../../src/adapters/cache/redis-rate-limit-client.ts';
import { buildServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { startOwnRedisServer, waitFor, type OwnRedisServer } from '../contract/cache.redis-server.ts';
import { uniqueId } from '../factories/index.ts';
import { bearer, createHttpTestContext, createOrgWithKeys, type HttpTestContext } from '../support/http-context.ts';

/**
 * Server mode runs several API processes behind one address: the rate limits must be one
 * budget for all of them (issue 13, "Redis-backed in server mode so N servers share one
 * budget"). Two fastify servers on two real sockets over one test-owned redis-server, each with
 * its own Redis connection as `serve` makes it. With Redis stopped the limits are skipped and
 * requests still answer; when it returns the limits count again.
 */

const PER_KEY = 6;
const AUTH_FAILURES = 4;

describe('rate limits shared by two servers through Redis', () => {
  let redis: OwnRedisServer;
  let admin: Redis;
  let t: HttpTestContext;
  let second: FastifyInstance;
  const clients: Redis[] = [];
  let a: string;
  let b: string;
  let orgId: string;
  let read: string;

  const listen = async (app: FastifyInstance) => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  };
  const connected = async () => {
    for (const client of clients) await waitFor(async () => client.status === 'ready', 'the rate-limit Redis connection');
  };

  beforeAll(async () => {
    redis = await startOwnRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined); // the outage test stops Redis under it
    clients.push(createRateLimitRedis(redis.url, silentLogger), createRateLimitRedis(redis.url, silentLogger));
    const env = { RATE_LIMIT_PER_KEY: String(PER_KEY), RATE_LIMIT_AUTH_FAILURES: String(AUTH_FAILURES) };
    t = await createHttpTestContext('sqlite', { env, server: { rateLimitRedis: clients[0] } });
    second = buildServer(t.ctx, { logger: false, rateLimitRedis: clients[1] });
    await second.ready();
    orgId = uniqueId('shared');
    read = (await createOrgWithKeys(t.app, { id: orgId })).read;
    a = await listen(t.app);
    b = await listen(second);
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
    for (const client of clients) client.disconnect();
    admin?.disconnect();
    await redis?.stop();
  });
  beforeEach(async () => {
    await redis.start();
    await waitFor(async () => (await admin.ping().catch(() => '')) === 'PONG', 'redis back');
    await admin.flushall();
    await connected();
  });

  const get = (base: string, key: string) => fetch(`${base}/api/v1/orgs/${orgId}`, { headers: bearer(key) });

  it("spends one key's budget across both servers and answers 429 with Retry-After on either", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < PER_KEY; i += 1) statuses.push((await get(i % 2 === 0 ? a : b, read)).status);
    expect(statuses).toEqual(Array(PER_KEY).fill(200));
    for (const base of [a, b]) {
      const refused = await get(base, read);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining(`${PER_KEY} requests per minute`) } });
    }
    // The counters are in Redis, under the limiter's prefix, and hold no key secret.
    const stored = await admin.keys('meterboard:ratelimit:*');
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.join(' ')).not.toContain(read);
  });

  it('counts failed authentications from one address on both servers together', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_FAILURES; i += 1) statuses.push((await get(i % 2 === 0 ? a : b, `mb_read_guess${i}`)).status);
    expect(statuses).toEqual(Array(AUTH_FAILURES).fill(401));
    for (const base of [a, b]) {
      // Refused before the key is looked at: a valid key from this address is refused too.
      const refused = await get(base, read);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('failed authentications') } });
    }
    expect((await fetch(`${a}/health`)).status).toBe(200);
  });

  it('skips the limits while Redis is away, without failing a request, and counts again when it returns', async () => {
    await redis.stop();
    await waitFor(async () => clients.every((client) => client.status !== 'ready'), 'the connections to notice');
    const valid: number[] = [];
    const guesses: number[] = [];
    for (let i = 0; i < PER_KEY + 2; i += 1) valid.push((await get(i % 2 === 0 ? a : b, read)).status);
    for (let i = 0; i < AUTH_FAILURES + 2; i += 1) guesses.push((await get(i % 2 === 0 ? a : b, `mb_read_guess${i}`)).status);
    expect(valid).toEqual(Array(PER_KEY + 2).fill(200));
    expect(guesses).toEqual(Array(AUTH_FAILURES + 2).fill(401));

    await redis.start();
    await connected();
    const statuses: number[] = [];
    for (let i = 0; i < PER_KEY + 1; i += 1) statuses.push((await get(i % 2 === 0 ? a : b, read)).status);
    expect(statuses).toEqual([...Array(PER_KEY).fill(200), 429]);
  }, 60_000);
});
