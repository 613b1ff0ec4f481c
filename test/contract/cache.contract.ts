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
/** Values are bytes (the port stores an answer's UTF-8 JSON as it goes on the wire). */
const bytes = (text: string) => Buffer.from(text, 'utf8');

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
      await cache.set(small, bytes('Zürich – 東京 ✓'), 60);
      await cache.set(large, bytes(document), 60);
      expect(await cache.get(small)).toEqual(bytes('Zürich – 東京 ✓'));
      expect(await cache.get(large)).toEqual(bytes(document));
    });

    it('overwrites an entry and keeps keys independent', async () => {
      const a = uniqueId('a');
      const b = uniqueId('b');
      await cache.set(a, bytes('first'), 60);
      await cache.set(b, bytes('other'), 60);
      await cache.set(a, bytes('second'), 60);
      expect(await cache.get(a)).toEqual(bytes('second'));
      expect(await cache.get(b)).toEqual(bytes('other'));
    });

    it('returns arbitrary bytes unchanged: invalid UTF-8, NUL, a multi-byte character cut in half', async () => {
      const key = uniqueId('bytes');
      const raw = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x80, 0xe6, 0x9d, 0x00, 0x7b]);
      await cache.set(key, raw, 60);
      const got = await cache.get(key);
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got).toEqual(raw);
    });

    it('stores an empty value as a value, not as a miss', async () => {
      const key = uniqueId('empty');
      await cache.set(key, bytes(''), 60);
      expect(await cache.get(key)).toEqual(bytes(''));
    });

    it('does not store an entry whose TTL is zero or negative', async () => {
      const zero = uniqueId('zero');
      const negative = uniqueId('negative');
      await cache.set(zero, bytes('x'), 0);
      await cache.set(negative, bytes('x'), -5);
      expect(await cache.get(zero)).toBeUndefined();
      expect(await cache.get(negative)).toBeUndefined();
    });

    it('expires an entry after its TTL while a longer-lived one stays', async () => {
      const short = uniqueId('short');
      const long = uniqueId('long');
      await cache.set(short, bytes('brief'), 1);
      await cache.set(long, bytes('lasting'), 60);
      expect(await cache.get(short)).toEqual(bytes('brief'));
      await elapse(1300);
      expect(await cache.get(short)).toBeUndefined();
      expect(await cache.get(long)).toEqual(bytes('lasting'));
    });

    it('handles many concurrent reads and writes', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => `${uniqueId('bulk')}-${i}`);
      await Promise.all(keys.map((key, i) => cache.set(key, bytes(String(i)), 60)));
      const values = await Promise.all(keys.map((key) => cache.get(key)));
      expect(values).toEqual(keys.map((_, i) => bytes(String(i))));
    });

    it('reports itself healthy', async () => {
      expect(await cache.health()).toBe('ok');
    });
  });
}
