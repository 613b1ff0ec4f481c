import { Redis } from 'ioredis';
import { uniqueSuffix } from '../factories/unique.ts';

/**
 * BullMQ tests on the shared Redis (REDIS_URL, as .ci/run sets it): each test gets its own
 * key prefix, so tests of several developers and runs never see each other's queues, and
 * removes exactly its own keys afterwards.
 */

export const TEST_REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** `mbtest-<tag>-<random>`: a BullMQ prefix no other test or run uses. */
export function testQueuePrefix(tag: string): string {
  return `mbtest-${tag}-${uniqueSuffix()}`;
}

/** A connection as BullMQ wants it for a Queue or QueueEvents the test opens itself. */
export function bullmqConnection(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
}

/** Removes every key under `prefix:` (SCAN, not KEYS, so a busy shared Redis is not blocked); nothing else. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
