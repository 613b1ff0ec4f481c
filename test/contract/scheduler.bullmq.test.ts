import { Redis } from 'ioredis';
import { createBullmqScheduler } from '../../src/adapters/scheduler/bullmq-scheduler.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { uniqueSuffix } from '../factories/unique.ts';
import { schedulerContract } from './scheduler.contract.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
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

schedulerContract('BullMQ worker (real Redis, unique prefix)', {
  create() {
    const prefix = `mbtest-sched-${uniqueSuffix()}`;
    prefixes.push(prefix);
    return createBullmqScheduler({ redisUrl: REDIS_URL, prefix, role: 'worker', log: silentLogger, runNowTimeoutMs: 30_000 });
  },
  everyMs: 500,
  elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  async cleanup() {
    for (const prefix of prefixes.splice(0)) await deleteKeys(prefix);
  },
});
