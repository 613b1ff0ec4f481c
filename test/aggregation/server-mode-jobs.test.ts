import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqScheduler } from '../../src/adapters/scheduler/bullmq-scheduler.ts';
import type { AppContext } from '../../src/app/context.ts';
import { createHttpServer } from '../../src/compose.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { Logger } from '../../src/ports/logger.ts';
import type { Scheduler } from '../../src/ports/scheduler.ts';
import type { Storage } from '../../src/ports/storage.ts';
import { bindJobs } from '../../src/worker/bind-jobs.ts';
import { runWorker, type RunningWorker } from '../../src/worker/run-worker.ts';
import { makeOrg } from '../factories/org.ts';
import { bullmqConnection, deleteRedisKeys, TEST_REDIS_URL, testQueuePrefix } from '../support/bullmq-redis.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import { createAggregationContext, ENGINES, HEAVY_TEST_TIMEOUT_MS, ingestAll, seededRandom, type AggregationTestContext } from './support.ts';
import { testAppContext, type TestAppContext } from '../support/app-context.ts';

/**
 * Server mode with one `serve` and one `worker`, each its own context (own database
 * connections, own config) on one PostgreSQL schema and one Redis prefix, wired as the CLI
 * wires them: the API process's HTTP server queues run-now jobs through a BullMQ producer,
 * the worker runs the registry. The API context's storage counts `dirtyOrgs`, the first call
 * of every aggregation pass, to show that no pass ran inside the API process.
 */

const NOW = Date.UTC(2026, 6, 1, 12, 0, 0);
const DAY = 86_400_000;
const ADMIN_KEY = 'server-mode-admin-key-0123456789';
const SERVE_EVERY_MS = 3_600_000;
const WORKER_EVERY_MS = 600_000;

function recordingLogger(): Logger & { entries: { msg: string; obj: Record<string, unknown> }[] } {
  const entries: { msg: string; obj: Record<string, unknown> }[] = [];
  const record = (obj: object | string, msg?: string) => {
    entries.push(typeof obj === 'string' ? { msg: obj, obj: {} } : { msg: msg ?? '', obj: obj as Record<string, unknown> });
  };
  return { entries, info: record, warn: record, error: record, debug: () => undefined };
}

/** The storage the API process sees, counting aggregation passes started through it. */
function countingPasses(storage: Storage): { storage: Storage; passes: () => number } {
  let passes = 0;
  const proxy = new Proxy(storage, {
    get(target, property, receiver) {
      if (property === 'dirtyOrgs') passes += 1;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { storage: proxy, passes: () => passes };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(ENGINES.filter((engine) => engine === 'postgres'))('server mode: one serve and one worker on %s', (engine) => {
  const prefix = testQueuePrefix('serve');
  let t: AggregationTestContext;
  let serveCtx: TestAppContext;
  let apiPasses: () => number;
  let workerLog: ReturnType<typeof recordingLogger>;
  let worker: RunningWorker;
  let producer: Scheduler;
  let app: FastifyInstance;
  let queue: Queue;

  const schedulerFor = (role: 'producer' | 'worker', log: Logger) => createBullmqScheduler({ redisUrl: TEST_REDIS_URL, prefix, role, log });
  const finishedJobs = (name: string) => workerLog.entries.filter((entry) => entry.msg === 'job finished' && entry.obj['job'] === name);
  const aggregateScheduler = async () => (await queue.getJobSchedulers()).find((s) => s.key === 'aggregate');

  beforeAll(async () => {
    const env = { ADMIN_KEY, DATABASE_URL: 'postgres://unused-by-the-test', REDIS_URL: TEST_REDIS_URL };
    t = await createAggregationContext(engine, { now: NOW, env: { ...env, AGGREGATE_EVERY: `${SERVE_EVERY_MS / 1000}s` } });
    const counted = countingPasses(t.ctx.storage);
    apiPasses = counted.passes;
    serveCtx = testAppContext(counted.storage, t.ctx);

    workerLog = recordingLogger();
    const workerConfig = loadConfig({ LOG_LEVEL: 'silent', ...env, AGGREGATE_EVERY: `${WORKER_EVERY_MS / 1000}s` });
    const workerCtx: AppContext = { ...(await t.openPeer()), config: workerConfig, log: workerLog };
    worker = await runWorker(workerCtx, { scheduler: schedulerFor('worker', workerLog) });

    // `serve` in server mode: a producer that starts with the whole registry, and the HTTP server queueing through it.
    producer = schedulerFor('producer', serveCtx.log);
    await producer.start(bindJobs(serveCtx));
    app = createHttpServer(serveCtx, { logger: false, checkResponses: true, jobs: producer });
    await app.ready();

    queue = new Queue('meterboard', { connection: bullmqConnection(), prefix });
    // The interval scheduler's first job runs at once, on the empty database.
    await waitFor(() => finishedJobs('aggregate').length > 0, 'the first scheduled aggregate job');
  }, HEAVY_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
    await producer?.stop();
    await worker?.stop();
    await queue?.close();
    await deleteRedisKeys(prefix);
    await t?.close();
  });

  it('keeps the schedule the worker registered: a serve with another AGGREGATE_EVERY does not reschedule it', async () => {
    const before = await aggregateScheduler();
    expect(before?.every).toBe(WORKER_EVERY_MS);
    expect(before?.next).toBeGreaterThan(Date.now() + WORKER_EVERY_MS / 2);
    // A second API process starting (a restart, or one more replica) with its 1 h setting.
    const another = schedulerFor('producer', serveCtx.log);
    await another.start(bindJobs(serveCtx));
    await another.stop();
    const after = await aggregateScheduler();
    expect(after?.every).toBe(WORKER_EVERY_MS);
    expect(after?.next).toBe(before?.next);
    expect(apiPasses()).toBe(0);
  });

  it('runs POST /api/v1/admin/aggregate and the rebuild after a time-zone change on the worker', async () => {
    const org = makeOrg({ timezone: 'Europe/Zurich' });
    await serveCtx.storage.createOrg(org, NOW);
    const sent = generateEvents({ random: seededRandom(8), idPrefix: org.id, from: NOW - 10 * DAY, to: NOW - 60_000, count: 600 });
    await ingestAll(serveCtx, org.id, sent);
    const manualBefore = finishedJobs('aggregate').length;

    const aggregated = await app.inject({ method: 'POST', url: '/api/v1/admin/aggregate', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(aggregated.statusCode, aggregated.body).toBe(200);
    expect(aggregated.json()).toMatchObject({ orgs: 1, skipped: [] });
    expect(finishedJobs('aggregate').length).toBe(manualBefore + 1);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics))).toEqual([]);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/v1/orgs/${org.id}`,
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { timezone: 'Asia/Kolkata' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await waitFor(() => finishedJobs('aggregate-org').length === 1, 'the worker to run the rebuild');
    expect(finishedJobs('aggregate-org')).toHaveLength(1);
    expect(await t.ctx.storage.dirtyOrgs()).toEqual([]);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, 'Asia/Kolkata', sent, t.ctx.metrics))).toEqual([]);
    // Neither pass ran in the API process.
    expect(apiPasses()).toBe(0);
  }, HEAVY_TEST_TIMEOUT_MS);
});
