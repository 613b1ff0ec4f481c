import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/ports/cache.ts';
import { uniqueId } from '../factories/index.ts';

/**
 * The cache contract: the same assertions for every adapter. `makeCache` returns a ready
 * cache; the suite closes it. Keys carry a random part per test so suites sharing one Redis
 * never see each other's entries. `elapse` lets time pass for TTLs: an in-process cache
 * advances its injected clock, Redis really waits.
 */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeCacheContract(adapter: string, makeCache: () => Promise<Cache>, elapse: (ms: number) => Promise<void> = sleep): void {
  describe(`Cache contract (${adapter})`, () => {
    let cache: Cache;
    beforeAll(async () => {
      cache = await makeCache();
    });
    afterAll(async () => {
      await cache?.close();
    });

    it('misses on a key never set', async () => {
      expect(await cache.get(uniqueId('absent'))).toBeUndefined();
    });

    it('returns exactly what was stored, including unicode and large JSON documents', async () => {
      const small = uniqueId('small');
      const large = uniqueId('large');
      const document = JSON.stringify({
        summary: Array.from({ length: 2000 }, (_, i) => ({ metric_name: `m${i}`, total_value: i * 1.5, label: 'Zürich – 東京 ✓' })),
      });
      await cache.set(small, 'Zürich – 東京 ✓', 60);
      await cache.set(large, document, 60);
      expect(await cache.get(small)).toBe('Zürich – 東京 ✓');
      expect(await cache.get(large)).toBe(document);
    });

    it('overwrites an entry and keeps keys independent', async () => {
      const a = uniqueId('a');
      const b = uniqueId('b');
      await cache.set(a, 'first', 60);
      await cache.set(b, 'other', 60);
      await cache.set(a, 'second', 60);
      expect(await cache.get(a)).toBe('second');
      expect(await cache.get(b)).toBe('other');
    });

    it('stores the empty string as a value, not as a miss', async () => {
      const key = uniqueId('empty');
      await cache.set(key, '', 60);
      expect(await cache.get(key)).toBe('');
    });

    it('does not store an entry whose TTL is zero or negative', async () => {
      const zero = uniqueId('zero');
      const negative = uniqueId('negative');
      await cache.set(zero, 'x', 0);
      await cache.set(negative, 'x', -5);
      expect(await cache.get(zero)).toBeUndefined();
      expect(await cache.get(negative)).toBeUndefined();
    });

    it('expires an entry after its TTL while a longer-lived one stays', async () => {
      const short = uniqueId('short');
      const long = uniqueId('long');
      await cache.set(short, 'brief', 1);
      await cache.set(long, 'lasting', 60);
      expect(await cache.get(short)).toBe('brief');
      await elapse(1300);
      expect(await cache.get(short)).toBeUndefined();
      expect(await cache.get(long)).toBe('lasting');
    });

    it('handles many concurrent reads and writes', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => `${uniqueId('bulk')}-${i}`);
      await Promise.all(keys.map((key, i) => cache.set(key, String(i), 60)));
      const values = await Promise.all(keys.map((key) => cache.get(key)));
      expect(values).toEqual(keys.map((_, i) => String(i)));
    });

    it('reports itself healthy', async () => {
      expect(await cache.health()).toBe('ok');
    });
  });
}
