import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/adapters/cache/memory-cache.ts';
import { fixedClock } from '../../src/domain/clock.ts';
import { describeCacheContract } from './cache.contract.ts';

const b = (text: string) => Buffer.from(text, 'utf8');

const contractClock = fixedClock(1_000_000);
describeCacheContract(
  'memory LRU (manual clock)',
  async () => createMemoryCache({ now: () => contractClock.now() }),
  async (ms) => contractClock.advance(ms),
);

describe('memory cache bounds', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createMemoryCache({ maxEntries: 2 });
    await cache.set('a', b('1'), 60);
    await cache.set('b', b('2'), 60);
    expect(await cache.get('a')).toEqual(b('1')); // a is now the most recently used
    await cache.set('c', b('3'), 60);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toEqual(b('1'));
    expect(await cache.get('c')).toEqual(b('3'));
  });

  it('bounds total size and refuses an entry larger than the whole cache without throwing', async () => {
    const cache = createMemoryCache({ maxBytes: 100 });
    await cache.set('k1', b('x'.repeat(40)), 60);
    await cache.set('k2', b('y'.repeat(40)), 60);
    await cache.set('k3', b('z'.repeat(40)), 60);
    expect(await cache.get('k1')).toBeUndefined();
    expect(await cache.get('k3')).toEqual(b('z'.repeat(40)));
    await cache.set('huge', b('h'.repeat(1000)), 60);
    expect(await cache.get('huge')).toBeUndefined();
  });

  it('expires by the injected clock', async () => {
    const clock = fixedClock(1_000_000);
    const cache = createMemoryCache({ now: () => clock.now() });
    await cache.set('current-hour', b('v'), 30);
    clock.advance(29_000);
    expect(await cache.get('current-hour')).toEqual(b('v'));
    clock.advance(2_000);
    expect(await cache.get('current-hour')).toBeUndefined();
  });

  it('drops expired entries that are never read again instead of holding them until evicted', async () => {
    const clock = fixedClock(1_000_000);
    const cache = createMemoryCache({ now: () => clock.now() });
    // Queries ending "now" have a new key each time: their entries are never read again.
    for (let i = 0; i < 50; i++) await cache.set(`live-${i}`, b('v'.repeat(1000)), 30);
    await cache.set('historical', b('h'), 6 * 3600);
    clock.advance(31_000);
    await cache.set('live-next', b('v'), 30);
    expect(cache.entryCount()).toBe(2);
    expect(await cache.get('historical')).toEqual(b('h'));
    expect(await cache.get('live-next')).toEqual(b('v'));
  });
});
