import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache } from '../../src/adapters/cache/redis-cache.ts';
import type { Cache } from '../../src/ports/cache.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { uniqueId } from '../factories/index.ts';
import { describeCacheContract } from './cache.contract.ts';
import { startOwnRedisServer, waitFor, type OwnRedisServer } from './cache.redis-server.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

function recordingLogger() {
  const entries: Array<{ level: 'info' | 'warn' | 'error' | 'debug'; args: unknown[] }> = [];
  const log: Logger = {
    info: (...args) => void entries.push({ level: 'info', args }),
    warn: (...args) => void entries.push({ level: 'warn', args }),
    error: (...args) => void entries.push({ level: 'error', args }),
    debug: (...args) => void entries.push({ level: 'debug', args }),
  };
  return { log, count: (level: 'info' | 'warn' | 'error') => entries.filter((e) => e.level === level).length };
}

async function readyCache(cache: Cache): Promise<Cache> {
  await waitFor(async () => (await cache.health()) === 'ok', 'redis cache to connect');
  return cache;
}

describeCacheContract('redis', async () =>
  readyCache(createRedisCache({ url: SHARED_REDIS_URL, keyPrefix: `${uniqueId('test-cache')}:` })),
);

describe('redis cache key prefix', () => {
  it('keeps two prefixes apart on one server', async () => {
    const a = await readyCache(createRedisCache({ url: SHARED_REDIS_URL, keyPrefix: `${uniqueId('pa')}:` }));
    const b = await readyCache(createRedisCache({ url: SHARED_REDIS_URL, keyPrefix: `${uniqueId('pb')}:` }));
    try {
      await a.set('same-key', bytes('from-a'), 60);
      expect(await b.get('same-key')).toBeUndefined();
      expect(await a.get('same-key')).toEqual(bytes('from-a'));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('redis cache during an outage', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await startOwnRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('never throws while Redis is down, logs each outage once, and resumes when Redis returns', async () => {
    const { log, count } = recordingLogger();
    const cache = await readyCache(createRedisCache({ url: server.url, log, maxRetryDelayMs: 200 }));
    try {
      await cache.set('before', bytes('cached'), 60);
      expect(await cache.get('before')).toEqual(bytes('cached'));
      expect(count('warn')).toBe(0);

      await server.stop();
      await waitFor(async () => (await cache.health()) === 'degraded', 'health to report degraded');
      for (let i = 0; i < 20; i += 1) {
        await expect(cache.set(`during-${i}`, bytes('x'), 60)).resolves.toBeUndefined();
        await expect(cache.get(`during-${i}`)).resolves.toBeUndefined();
      }
      expect(await cache.health()).toBe('degraded');
      expect(count('warn')).toBe(1);
      expect(count('error')).toBe(0);

      await server.start();
      await waitFor(async () => (await cache.health()) === 'ok', 'health to recover');
      expect(count('info')).toBe(1);
      // The restarted server has no persistence: the old entry is gone, new ones are cached again.
      expect(await cache.get('before')).toBeUndefined();
      await cache.set('after', bytes('cached-again'), 60);
      expect(await cache.get('after')).toEqual(bytes('cached-again'));

      await server.stop();
      await waitFor(async () => (await cache.health()) === 'degraded', 'health to report the second outage');
      expect(count('warn')).toBe(2);
      await server.start();
      await waitFor(async () => (await cache.health()) === 'ok', 'health to recover again');
      expect(count('info')).toBe(2);
    } finally {
      await cache.close();
    }
  }, 60_000);

  it('answers misses at once when Redis is down from the start', async () => {
    const { log, count } = recordingLogger();
    await server.stop();
    const cache = createRedisCache({ url: server.url, log, maxRetryDelayMs: 200 });
    try {
      await waitFor(async () => count('warn') === 1, 'the outage to be logged');
      expect(await cache.get('anything')).toBeUndefined();
      await cache.set('anything', bytes('x'), 60);
      expect(await cache.health()).toBe('degraded');
      expect(count('warn')).toBe(1);
      await server.start();
      await readyCache(cache);
      await cache.set('anything', bytes('y'), 60);
      expect(await cache.get('anything')).toEqual(bytes('y'));
    } finally {
      await cache.close();
    }
  }, 60_000);
});
