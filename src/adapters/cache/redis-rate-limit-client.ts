import { Redis } from 'ioredis';
import type { Logger } from '../../ports/logger.ts';

/**
 * The Redis connection behind the shared rate-limit counters (server mode). Like the cache it
 * never queues or waits while Redis is away: commands fail at once and the limiter lets the
 * request through (skipOnError), so an outage never blocks the API.
 */
export function createRateLimitRedis(url: string, log: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 250,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 2000),
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: error.message }, 'redis unavailable for rate limits; limits are skipped until it returns');
  });
  client.on('ready', () => {
    if (down) log.info('redis available again for rate limits');
    down = false;
  });
  return client;
}
