import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../ports/logger.ts';
import type { JobHandlers, JobName, Scheduler } from '../../ports/scheduler.ts';
import { CLEANUP_PATTERN, DAILY_REPORTS_PATTERN } from './embedded-scheduler.ts';

export const QUEUE_NAME = 'meterboard';

export interface BullmqSchedulerOptions {
  redisUrl: string;
  aggregateEveryMs: number;
  log: Logger;
  /**
   * `producer` (the API process): keeps the job schedulers registered and submits runNow jobs.
   * `worker` (`meterboard worker`): the same, plus a Worker that runs the jobs.
   */
  role: 'producer' | 'worker';
  /** Redis key prefix; tests isolate themselves with a unique one. */
  prefix?: string;
  queueName?: string;
  /** How long runNow waits for a worker to finish the job. */
  runNowTimeoutMs?: number;
  /** Validates a job's payload before its handler runs (src/worker/jobs.ts); a bad payload fails the job for good. */
  parsePayload?: (job: JobName, data: unknown) => unknown;
}

const JOB_NAMES: readonly JobName[] = ['aggregate', 'cleanup', 'daily-reports'];
const isJobName = (name: string): name is JobName => (JOB_NAMES as readonly string[]).includes(name);

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code);
}

/**
 * Server-mode scheduler: BullMQ job schedulers on Redis. Any number of `meterboard worker`
 * processes consume queue `meterboard`; the use cases take per-organization leases, so
 * concurrent jobs never aggregate one organization at once. A worker that dies mid-job
 * leaves its job stalled; BullMQ hands it to another worker and the dirty marks it did not
 * clear are redone.
 */
export function createBullmqScheduler(options: BullmqSchedulerOptions): Scheduler {
  const queueName = options.queueName ?? QUEUE_NAME;
  const prefix = options.prefix ?? 'bull';
  const connections: Redis[] = [];
  // While Redis is away ioredis retries and errors many times a second: report the outage
  // once, and its end once, instead of flooding the log.
  let redisDown = false;
  const reportDown = (error: unknown) => {
    if (redisDown) return;
    redisDown = true;
    options.log.warn({ err: error }, 'redis unreachable: scheduled jobs wait until it is back');
  };
  const reportUp = () => {
    if (!redisDown) return;
    redisDown = false;
    options.log.info({}, 'redis reachable again: scheduled jobs resume');
  };
  const connect = (): Redis => {
    const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
    connection.on('error', reportDown);
    connection.on('ready', reportUp);
    connections.push(connection);
    return connection;
  };

  const queue = new Queue(queueName, { connection: connect(), prefix });
  // BullMQ duplicates connections internally; their errors surface here, not on `connect()`'s listener.
  queue.on('error', reportDown);
  let worker: Worker | null = null;
  let queueEvents: QueueEvents | null = null;
  let handlers: JobHandlers | null = null;

  async function process(job: Job): Promise<unknown> {
    if (!handlers) throw new Error('scheduler has no handlers');
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job "${job.name}"`);
    const handler = handlers[job.name];
    if (!handler) throw new UnrecoverableError(`no handler for job "${job.name}" in this worker`);
    if (options.parsePayload) {
      try {
        options.parsePayload(job.name, job.data);
      } catch (error) {
        throw new UnrecoverableError(`invalid payload for job "${job.name}": ${(error as Error).message}`);
      }
    }
    const started = Date.now();
    const result = await handler();
    options.log.info({ job: job.name, id: job.id, ms: Date.now() - started }, 'job finished');
    return result ?? null;
  }

  // One readiness promise shared by concurrent runNow calls: a caller that added its job
  // before QueueEvents was listening would miss the completion and wait for the timeout.
  let eventsReady: Promise<QueueEvents> | null = null;
  function events(): Promise<QueueEvents> {
    eventsReady ??= (async () => {
      const listener = new QueueEvents(queueName, { connection: connect(), prefix });
      queueEvents = listener;
      listener.on('error', reportDown);
      await listener.waitUntilReady();
      return listener;
    })();
    return eventsReady;
  }

  return {
    async start(jobHandlers: JobHandlers): Promise<void> {
      if (handlers) throw new Error('scheduler already started');
      handlers = jobHandlers;
      const template = (name: JobName) => ({
        name,
        data: { trigger: 'schedule' },
        opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
      });
      await queue.upsertJobScheduler('aggregate', { every: options.aggregateEveryMs }, template('aggregate'));
      await queue.upsertJobScheduler('cleanup', { pattern: CLEANUP_PATTERN, tz: 'UTC' }, template('cleanup'));
      if (jobHandlers['daily-reports']) {
        await queue.upsertJobScheduler('daily-reports', { pattern: DAILY_REPORTS_PATTERN, tz: 'UTC' }, template('daily-reports'));
      }
      if (options.role === 'worker') {
        // One job at a time per process; scale out with more worker processes.
        worker = new Worker(queueName, process, { connection: connect(), prefix, concurrency: 1 });
        worker.on('failed', (job, error) => options.log.error({ job: job?.name, id: job?.id, err: error }, 'job failed'));
        worker.on('error', (error) => (isConnectionError(error) ? reportDown(error) : options.log.error({ err: error }, 'worker error')));
        await worker.waitUntilReady();
      }
      options.log.info({ role: options.role, queue: queueName }, 'bullmq scheduler started');
    },

    async runNow(job: JobName): Promise<unknown> {
      const listener = await events();
      const added = await queue.add(job, { trigger: 'manual' }, { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } });
      return added.waitUntilFinished(listener, options.runNowTimeoutMs ?? 10 * 60_000);
    },

    async stop(): Promise<void> {
      await worker?.close();
      await queueEvents?.close();
      await queue.close();
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    },
  };
}
