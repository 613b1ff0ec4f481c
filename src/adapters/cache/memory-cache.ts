import { LRUCache } from 'lru-cache';
import type { Cache } from '../../ports/cache.ts';

export interface MemoryCacheOptions {
  /** Upper bound on the number of entries. */
  maxEntries?: number;
  /** Upper bound on the summed key + value length (UTF-16 code units, roughly bytes for JSON). */
  maxChars?: number;
  /** Time source for expiry, in milliseconds; tests pass a fake one. */
  now?: () => number;
}

/** Embedded-mode response cache: an in-process LRU bounded by entries and size, with per-entry TTL. */
export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const lru = new LRUCache<string, string>({
    max: options.maxEntries ?? 10_000,
    maxSize: options.maxChars ?? 64 * 1024 * 1024,
    sizeCalculation: (value, key) => Math.max(1, value.length + key.length),
    // lru-cache memoizes "now" for ttlResolution ms; an injected clock must be read every time.
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  return {
    async get(key) {
      return lru.get(key);
    },
    async set(key, value, ttlSeconds) {
      if (!(ttlSeconds > 0)) return;
      // An entry larger than the whole cache is refused by lru-cache; that is a miss, not an error.
      lru.set(key, value, { ttl: Math.ceil(ttlSeconds * 1000) });
    },
    async health() {
      return 'ok';
    },
    async close() {
      lru.clear();
    },
  };
}
