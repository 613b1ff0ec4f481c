import { LRUCache } from 'lru-cache';
import type { Cache } from '../../ports/cache.ts';

export interface MemoryCacheOptions {
  /** Upper bound on the number of entries. */
  maxEntries?: number;
  /** Upper bound on the summed key length (UTF-16 code units) and value bytes. */
  maxBytes?: number;
  /** Time source for expiry, in milliseconds; tests pass a fake one. */
  now?: () => number;
}

/** The cache plus what a test or a diagnostic may count. */
export type MemoryCache = Cache & {
  /** Entries held, expired ones not yet dropped included. */
  entryCount(): number;
};

/** Expired entries are dropped at most this often (on a write), so they never pile up. */
const PURGE_EVERY_MS = 5_000;

/**
 * Embedded-mode response cache: an in-process LRU bounded by entries and size, with per-entry
 * TTL. lru-cache only drops an expired entry when it is read or evicted; a query ending "now"
 * has a new key each time (its instants are in it), so its entries were never read again and
 * filled the cache to its size bound (64 MB of hourly series in a soak) before anything left.
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): MemoryCache {
  const now = options.now ?? (() => performance.now());
  let lastPurge = now();
  const lru = new LRUCache<string, Buffer>({
    max: options.maxEntries ?? 10_000,
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (value, key) => Math.max(1, value.length + key.length),
    // lru-cache memoizes "now" for ttlResolution ms; an injected clock must be read every time.
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  return {
    async get(key) {
      // The stored Buffer itself, not a copy: the port's callers never modify a value.
      return lru.get(key);
    },
    async set(key, value, ttlSeconds) {
      if (!(ttlSeconds > 0)) return;
      // An entry larger than the whole cache is refused by lru-cache; that is a miss, not an error.
      lru.set(key, value, { ttl: Math.ceil(ttlSeconds * 1000) });
      if (now() - lastPurge >= PURGE_EVERY_MS) {
        lastPurge = now();
        lru.purgeStale();
      }
    },
    entryCount() {
      return lru.size;
    },
    async health() {
      return 'ok';
    },
    async close() {
      lru.clear();
    },
  };
}
