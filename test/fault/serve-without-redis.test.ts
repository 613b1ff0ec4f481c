import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedisServer, type OwnRedisServer } from '../contract/cache.redis-server.ts';
import { probePostgres, TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';
import { FAULT_ADMIN_KEY, freePort, runCli, waitUntil, type CliProcess } from './support.ts';

/**
 * Finding 4 of issue 13: `meterboard serve` in server mode with Redis unreachable at start never
 * opened its port. It must answer from the database, and use Redis again (its cache) once
 * Redis is back. Redis here is a test-owned redis-server, stopped before serve starts.
 */

const available = await probePostgres();

describe.runIf(available)('serve in server mode while Redis is down at start', () => {
  let redis: OwnRedisServer;
  let serve: CliProcess;
  let base: string;
  const schema = uniqueSchemaName('fault_redis');

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    redis = await startOwnRedisServer();
    await redis.stop();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    serve = runCli(['serve'], {
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_KEY: FAULT_ADMIN_KEY,
    });
  });

  afterAll(async () => {
    await serve?.stop();
    await redis?.stop();
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('answers from the database, then uses Redis again when it returns', async () => {
    await waitUntil(async () => (await fetch(`${base}/health`)).ok, 'serve to answer /health', 180_000, serve);
    const headers = { authorization: `Bearer ${FAULT_ADMIN_KEY}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/api/v1/orgs`, { method: 'POST', headers, body: JSON.stringify({ id: 'redis-down' }) });
    expect(created.status).toBe(201);
    const now = Date.now();
    const ingested = await fetch(`${base}/api/v1/events?org=redis-down`, {
      method: 'POST', headers, body: JSON.stringify([{ id: 'e1', type: 'page_usage', timestamp: new Date(now - 60_000).toISOString(), pages: 4 }]),
    });
    expect(await ingested.json()).toMatchObject({ accepted: 1 });
    const live = await fetch(`${base}/api/v1/orgs/redis-down/live-summary?start=${new Date(now - 3_600_000).toISOString()}&end=${new Date(now + 60_000).toISOString()}`, { headers });
    expect(live.status).toBe(200);

    await redis.start();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      // Back in use: answers are cached in Redis again (the cache reconnects by itself). Each
      // poll recomputes (refresh=true): the answer computed during the outage is this server's
      // own and stays in its in-process near layer until its TTL (ADR 0018), so a plain repeat
      // is a near hit that never reaches Redis.
      const cached = async () => {
        await fetch(`${base}/api/v1/orgs/redis-down/metrics?refresh=true`, { headers });
        return (await client.keys('meterboard:cache:*')).length > 0;
      };
      await waitUntil(cached, 'answers cached in Redis again', 120_000, serve);
    } finally {
      client.disconnect();
    }
    expect((await fetch(`${base}/health`)).ok).toBe(true);
  }, 360_000);
});
