import type { Cache } from '../../ports/cache.ts';
import { createMemoryCache } from './memory-cache.ts';

/** A tenth of the server's 300 MB memory goal; the benchmark's hot answers (20 orgs × 5 questions) take ~10 MB. */
export const NEAR_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Server mode's response cache: a small in-process LRU in front of the shared one (Redis).
 * Answers this process computed are kept near as well, so a hit on them is the stored Buffer
 * itself: no Redis round trip and no allocation (a Redis reply of a 92 KiB answer is a new
 * external buffer each time, and at the server's heap-growth limit those buffers brought a
 * full collection every ~40 hits, ADR 0018). Entries other processes stored are read from
 * Redis and not copied near: their remaining lifetime is unknown here, and a near copy must
 * never outlive the TTL its entry was given (30 s for answers reaching the current hour).
 * Keys carry the data version, read from the database for every request (ADR 0003), so a
 * near entry is exactly as fresh as the shared one. Health is the shared cache's.
 */
export function createNearCache(far: Cache, maxBytes = NEAR_CACHE_BYTES): Cache {
  const near = createMemoryCache({ maxBytes });
  return {
    async get(key) {
      return (await near.get(key)) ?? far.get(key);
    },
    async set(key, value, ttlSeconds) {
      await Promise.all([near.set(key, value, ttlSeconds), far.set(key, value, ttlSeconds)]);
    },
    health: () => far.health(),
    async close() {
      await Promise.all([near.close(), far.close()]);
    },
  };
}
