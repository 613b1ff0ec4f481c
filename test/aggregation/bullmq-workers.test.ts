import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqScheduler } from '../../src/adapters/scheduler/bullmq-scheduler.ts';
import type { AggregateResult } from '../../src/app/aggregate.ts';
import type { AppContext } from '../../src/app/context.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Scheduler } from '../../src/ports/scheduler.ts';
import { bindJobs } from '../../src/worker/bind-jobs.ts';
import { runWorker, type RunningWorker } from '../../src/worker/run-worker.ts';
import { makeOrg } from '../factories/org.ts';
import { bullmqConnection, deleteRedisKeys, TEST_REDIS_URL, testQueuePrefix } from '../support/bullmq-redis.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { arrivalChunks, generateEvents } from './generate.ts';
import type { SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Server mode with two `meterboard worker` processes (two contexts with their own database
 * connections, two BullMQ workers) on a real Redis, draining one backlog concurrently: the
 * per-organization lease keeps them off each other's organizations, and the result equals
 * the oracle. Each run uses its own Redis key prefix.
 */

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const DAY = 86_400_000;

async function waitUntilIdle(prefix: string): Promise<void> {
  const { Queue } = await import('bullmq');
  const queue = new Queue('meterboard', { connection: bullmqConnection(), prefix });
  try {
    for (let i = 0; i < 300; i += 1) {
      const counts = await queue.getJobCounts('active', 'waiting', 'prioritized');
      if (Object.values(counts).every((n) => n === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('queue did not become idle');
  } finally {
    await queue.close();
  }
}

describe.each(ENGINES)('two BullMQ workers on %s', (engine) => {
  let t: AggregationTestContext;
  const prefix = testQueuePrefix('workers');
  const workers: RunningWorker[] = [];
  let producer: Scheduler;
  const orgs = [
    makeOrg({ timezone: 'Europe/Zurich' }),
    makeOrg({ timezone: 'Asia/Kolkata' }),
    makeOrg({ timezone: 'America/New_York' }),
    makeOrg({ timezone: 'UTC' }),
  ];
  const sent = new Map<string, SentEvent[]>();
  const scheduler = (role: 'producer' | 'worker') =>
    createBullmqScheduler({ redisUrl: TEST_REDIS_URL, prefix, role, log: silentLogger });

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW, env: { AGGREGATE_EVERY: '1h' } });
    const peers: AppContext[] = [await t.openPeer(), await t.openPeer()];
    for (const peer of peers) workers.push(await runWorker(peer, { scheduler: scheduler('worker') }));
    producer = scheduler('producer');
    await producer.start(bindJobs(t.ctx));
    // The job scheduler's first aggregate job runs at once; let it finish on the empty database.
    await waitUntilIdle(prefix);

    const random = seededRandom(99);
    for (const org of orgs) {
      await t.ctx.storage.createOrg(org, NOW);
      const events = generateEvents({ random, idPrefix: org.id, from: NOW - 20 * DAY, to: NOW - 60_000, count: 1500 });
      const arrived = arrivalChunks(events, 2, random).flat();
      sent.set(org.id, arrived);
      await ingestAll(t.ctx, org.id, arrived);
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await producer?.stop();
    await deleteRedisKeys(prefix);
    await t.close();
  });

  it('aggregate the same backlog concurrently into exactly the oracle numbers', async () => {
    const results = (await Promise.all([1, 2, 3, 4].map(() => producer.runNow('aggregate')))) as AggregateResult[];
    expect(results).toHaveLength(4);
    for (const result of results) expect(result).toMatchObject({ buckets: expect.any(Number), events: expect.any(Number) });
    // Every organization was aggregated by exactly one pass of one worker (others skipped or found it clean).
    expect(results.reduce((n, r) => n + r.orgs, 0)).toBeGreaterThanOrEqual(orgs.length);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
    for (const org of orgs) {
      const comparison = await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent.get(org.id)!, t.ctx.metrics);
      expect(summarize(comparison), org.timezone).toEqual([]);
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('registers the aggregate and cleanup job schedulers and runs cleanup through the queue', async () => {
    const cleanup = (await producer.runNow('cleanup')) as { dryRun: boolean; events: number };
    expect(cleanup).toMatchObject({ dryRun: false, events: 0 });
    const { Queue } = await import('bullmq');
    const queue = new Queue('meterboard', { connection: bullmqConnection(), prefix });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.every ?? s.pattern]).sort()).toEqual([['aggregate', 3_600_000], ['alert-notifications', 60_000], ['cleanup', '0 0 3 * * *'], ['daily-reports', '0 5 * * * *'], ['sources-pull', 60_000]]);
    } finally {
      await queue.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('fails a job with an invalid payload instead of running it', async () => {
    const { Queue, QueueEvents } = await import('bullmq');
    const queue = new Queue('meterboard', { connection: bullmqConnection(), prefix });
    const events = new QueueEvents('meterboard', { connection: bullmqConnection(), prefix });
    try {
      await events.waitUntilReady();
      const job = await queue.add('cleanup', { dryRun: 'yes' });
      await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/invalid payload/);
    } finally {
      await events.close();
      await queue.close();
    }
  }, HEAVY_TEST_TIMEOUT_MS);
});
