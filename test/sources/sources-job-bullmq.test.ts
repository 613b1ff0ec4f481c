import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqScheduler } from '../../src/adapters/scheduler/bullmq-scheduler.ts';
import type { TestAppContext } from '../support/app-context.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { Scheduler } from '../../src/ports/scheduler.ts';
import type { SourcePullResult } from '../../src/sources/pull-sources.ts';
import { sourceConfigSchema } from '../../src/sources/source-config.ts';
import { bindJobs } from '../../src/worker/bind-jobs.ts';
import { runWorker, type RunningWorker } from '../../src/worker/run-worker.ts';
import { createAggregationContext, type AggregationTestContext } from '../aggregation/support.ts';
import { deleteRedisKeys, TEST_REDIS_URL, testQueuePrefix } from '../support/bullmq-redis.ts';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../support/postgres.ts';

/** Server mode: the registry's sources job, scheduled and run by a BullMQ worker on a real Redis. */
const NOW = Date.parse('2026-11-20T12:00:00Z');

describe('sources-pull through BullMQ', () => {
  let t: AggregationTestContext;
  let ctx: TestAppContext;
  let worker: RunningWorker;
  let producer: Scheduler;
  const prefix = testQueuePrefix('src');
  const schema = uniqueSchemaName('src_bull');
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const scheduler = (role: 'producer' | 'worker') =>
    createBullmqScheduler({ redisUrl: TEST_REDIS_URL, prefix, role, log: silentLogger });

  beforeAll(async () => {
    t = await createAggregationContext('sqlite', { now: NOW });
    await t.ctx.storage.createOrg({ id: 'acme', name: 'acme', timezone: 'UTC' }, NOW);
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, amount int NOT NULL, created_at timestamptz NOT NULL)`);
    await client.query(`INSERT INTO ${schema}.orders (amount, created_at) SELECT i, $1::timestamptz - i * interval '1 minute' FROM generate_series(1, 25) AS i`, [new Date(NOW)]);
    const source = sourceConfigSchema.parse({
      name: 'shop',
      kind: 'postgres',
      url: TEST_DATABASE_URL,
      schema,
      org: 'acme',
      tables: [{ table: 'orders', event: 'order', attributes: { amount: 'amount' } }],
    });
    ctx = { ...t.ctx, config: Object.freeze({ ...t.ctx.config, sources: [source] }) };
    worker = await runWorker(ctx, { scheduler: scheduler('worker') });
    producer = scheduler('producer');
    await producer.start(bindJobs(ctx));
  });

  afterAll(async () => {
    await worker?.stop();
    await producer?.stop();
    await deleteRedisKeys(prefix);
    await ctx?.sources.connector.close();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await t?.close();
  });

  it('runs on a worker and pulls the due source into meterboard', async () => {
    // The job scheduler may have run it once already at start-up; then the source is not due and
    // this run reads nothing. Either way the 25 rows are stored exactly once.
    const results = (await producer.runNow('sources-pull')) as SourcePullResult[];
    expect(results.every((r) => r.source === 'shop' && r.ok)).toBe(true);
    const events = await ctx.storage.scanEvents({ orgId: 'acme', from: 0, to: NOW + 1, types: ['order'] });
    expect(events.map((e) => e.attrs['amount']).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const [status] = await ctx.sources.state.listStatus();
    expect(status).toMatchObject({ source: 'shop', rowsRead: 25, eventsAccepted: 25, consecutiveFailures: 0 });
  });
});
