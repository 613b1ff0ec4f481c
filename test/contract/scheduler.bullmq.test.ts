import { createBullmqScheduler } from '../../src/adapters/scheduler/bullmq-scheduler.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { deleteRedisKeys, TEST_REDIS_URL, testQueuePrefix } from '../support/bullmq-redis.ts';
import { schedulerContract } from './scheduler.contract.ts';

const prefixes: string[] = [];

schedulerContract('BullMQ worker (real Redis, unique prefix)', {
  create() {
    const prefix = testQueuePrefix('sched');
    prefixes.push(prefix);
    return createBullmqScheduler({ redisUrl: TEST_REDIS_URL, prefix, role: 'worker', log: silentLogger, runNowTimeoutMs: 30_000 });
  },
  everyMs: 500,
  elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  async cleanup() {
    for (const prefix of prefixes.splice(0)) await deleteRedisKeys(prefix);
  },
});
