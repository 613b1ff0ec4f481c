import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { createNearCache } from '../../src/adapters/cache/near-cache.ts';
import { createRedisCache } from '../../src/adapters/cache/redis-cache.ts';
import type { Cache } from '../../src/ports/cache.ts';
import { uniqueId } from '../factories/index.ts';
import { describeCacheContract } from './cache.contract.ts';
import { waitFor } from './cache.redis-server.ts';

/** Server mode's cache (an in-process LRU in front of Redis, ADR 0018): the same contract, and what the near layer may and may not keep. */

const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';
const bytes = (text: string) => Buffer.from(text, 'utf8');

async function readyRedis(prefix: string): Promise<Cache> {
  const cache = createRedisCache({ url: SHARED_REDIS_URL, keyPrefix: `${prefix}:` });
  await waitFor(async () => (await cache.health()) === 'ok', 'redis cache to connect');
  return cache;
}

describeCacheContract('near LRU over redis', async () => createNearCache(await readyRedis(uniqueId('test-near'))));

/** A far cache that counts reads and can be switched off (as a Redis outage looks to the port). */
function countingFar(): Cache & { reads: number; down: boolean } {
  const inner = createMemoryCache();
  const far = {
    reads: 0,
    down: false,
    async get(key: string) {
      far.reads += 1;
      return far.down ? undefined : inner.get(key);
    },
    async set(key: string, value: Buffer, ttl: number) {
      if (!far.down) await inner.set(key, value, ttl);
    },
    health: async () => (far.down ? ('degraded' as const) : ('ok' as const)),
    close: () => inner.close(),
  };
  return far;
}

describe('near cache layering', () => {
  it('answers what this process stored from memory, the same Buffer, without reading the shared cache', async () => {
    const far = countingFar();
    const cache = createNearCache(far);
    const value = bytes('{"a":1}');
    await cache.set('k', value, 60);
    expect(await cache.get('k')).toBe(value);
    expect(far.reads).toBe(0);
    expect(await far.get('k')).toEqual(value);
  });

  it('reads entries other processes stored from the shared cache each time, never copying them near', async () => {
    const far = countingFar();
    const cache = createNearCache(far);
    await far.set('other', bytes('from another server'), 60);
    expect(await cache.get('other')).toEqual(bytes('from another server'));
    expect(await cache.get('other')).toEqual(bytes('from another server'));
    expect(far.reads).toBe(2);
    // Once the shared entry is gone (expired there), so is the answer: no near copy outlives it.
    far.down = true;
    expect(await cache.get('other')).toBeUndefined();
  });

  it('reports the shared cache\'s health', async () => {
    const far = countingFar();
    const cache = createNearCache(far);
    expect(await cache.health()).toBe('ok');
    far.down = true;
    expect(await cache.health()).toBe('degraded');
  });

  it('keeps a near entry no longer than its TTL', async () => {
    const far = countingFar();
    const cache = createNearCache(far);
    await cache.set('brief', bytes('x'), 1);
    far.down = true;
    expect(await cache.get('brief')).toEqual(bytes('x'));
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await cache.get('brief')).toBeUndefined();
  });
});
