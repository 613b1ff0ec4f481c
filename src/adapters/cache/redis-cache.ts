import { Redis } from 'ioredis';
import type { Cache } from '../../ports/cache.ts';
import { silentLogger, type Logger } from '../../ports/logger.ts';

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key (tests isolate themselves with a unique prefix). */
  keyPrefix?: string;
  log?: Logger;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Reconnect backoff ceiling while Redis is away. */
  maxRetryDelayMs?: number;
  /** After a failed command on a live connection, commands are skipped this long before one probes again. */
  probeAfterMs?: number;
}

/**
 * Server-mode response cache. It never throws and never waits long: commands are not
 * queued while disconnected (enableOfflineQueue: false), connect and command timeouts are
 * short, and any failure is a miss. An outage is logged once when it starts and once when
 * Redis is back; `health()` answers 'degraded' in between.
 */
export function createRedisCache(options: RedisCacheOptions): Cache {
  const log = options.log ?? silentLogger;
  const probeAfterMs = options.probeAfterMs ?? 1000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 2000;
  const client = new Redis(options.url, {
    keyPrefix: options.keyPrefix ?? '',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 250,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxRetryDelayMs),
  });

  let down = false;
  /** Set when a command failed while the socket looked fine (a hung server): skip until then. */
  let skipUntil = 0;
  let closed = false;

  const markDown = (error: unknown) => {
    if (down || closed) return;
    down = true;
    log.warn({ err: error instanceof Error ? error.message : String(error) }, 'redis cache unavailable; answering from the database until it returns');
  };
  const markUp = () => {
    skipUntil = 0;
    if (!down) return;
    down = false;
    log.info('redis cache available again');
  };

  client.on('error', markDown);
  client.on('ready', markUp);
  client.on('close', () => markDown(new Error('connection to redis lost')));

  const usable = () => client.status === 'ready' && Date.now() >= skipUntil;

  async function attempt<T>(command: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    if (!usable()) return { ok: false };
    try {
      const value = await command();
      markUp();
      return { ok: true, value };
    } catch (error) {
      skipUntil = Date.now() + probeAfterMs;
      markDown(error);
      return { ok: false };
    }
  }

  return {
    async get(key) {
      // getBuffer: the stored bytes as they are, with no UTF-8 decode into a string per hit.
      const result = await attempt(() => client.getBuffer(key));
      return result.ok && result.value !== null ? result.value : undefined;
    },
    async set(key, value, ttlSeconds) {
      if (!(ttlSeconds > 0)) return;
      await attempt(() => client.set(key, value, 'PX', Math.ceil(ttlSeconds * 1000)));
    },
    async health() {
      if (client.status !== 'ready') return 'degraded';
      // A ping is the probe that ends a skip window early.
      skipUntil = 0;
      const result = await attempt(() => client.ping());
      return result.ok ? 'ok' : 'degraded';
    },
    async close() {
      closed = true;
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}
