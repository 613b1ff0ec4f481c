import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../ports/logger.ts';
import type { ScheduledJob, Scheduler } from '../../ports/scheduler.ts';

export const QUEUE_NAME = 'meterboard';

export interface BullmqSchedulerOptions {
  redisUrl: string;
  log: Logger;
  /**
   * `producer` (the API process): only submits runNow jobs; it never touches the schedules,
   * so an API process configured differently cannot reschedule the workers' jobs.
   * `worker` (`meterboard worker`): owns the schedules (registers the registry's job
   * schedulers, removes those of jobs no longer registered) and runs the jobs.
   */
  role: 'producer' | 'worker';
  /** Redis key prefix; tests isolate themselves with a unique one. */
  prefix?: string;
  queueName?: string;
  /** How long runNow waits for a worker to finish the job. */
  runNowTimeoutMs?: number;
}

const RETENTION = { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } };

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
    // A Redis restarted without persistence (or failed over to an empty replica) has lost the
    // job schedulers: without registering them again no scheduled job would ever run.
    if (options.role === 'worker' && jobs !== null) reRegisterSchedules();
  };
  let reRegistering = false;
  const reRegisterSchedules = () => {
    if (reRegistering || jobs === null) return;
    reRegistering = true;
    const registered = [...jobs.values()];
    const attempt = (): void => {
      registerSchedules(registered)
        .then(() => {
          reRegistering = false;
          options.log.info({ jobs: registered.length }, 'job schedules registered again after the redis outage');
        })
        .catch((error: unknown) => {
          if (closing) {
            reRegistering = false;
            return;
          }
          options.log.warn({ err: error }, 'registering the job schedules again failed; retrying');
          setTimeout(attempt, 1_000).unref?.();
        });
    };
    attempt();
  };
  let closing = false;
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
  let jobs: Map<string, ScheduledJob> | null = null;

  async function process(job: Job): Promise<unknown> {
    const scheduled = jobs?.get(job.name);
    if (!scheduled) throw new UnrecoverableError(`unknown job "${job.name}"`);
    let payload: unknown;
    try {
      payload = scheduled.parsePayload(job.data);
    } catch (error) {
      throw new UnrecoverableError((error as Error).message);
    }
    const started = Date.now();
    const result = await scheduled.run(payload);
    options.log.info({ job: job.name, id: job.id, ms: Date.now() - started }, 'job finished');
    return result ?? null;
  }

  /** The registry is the schedule: upsert each scheduled job, drop schedulers of jobs that left it. */
  async function registerSchedules(registered: readonly ScheduledJob[]): Promise<void> {
    const names = new Set(registered.map((job) => job.name));
    for (const existing of await queue.getJobSchedulers()) {
      if (existing.key && !names.has(existing.key)) {
        await queue.removeJobScheduler(existing.key);
        options.log.info({ job: existing.key }, 'removed the schedule of a job no longer registered');
      }
    }
    for (const job of registered) {
      const template = { name: job.name, data: {}, opts: RETENTION };
      if ('everyMs' in job.schedule) await queue.upsertJobScheduler(job.name, { every: job.schedule.everyMs }, template);
      else if ('cron' in job.schedule) await queue.upsertJobScheduler(job.name, { pattern: job.schedule.cron, tz: 'UTC' }, template);
      else await queue.removeJobScheduler(job.name);
    }
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
    async start(registered: readonly ScheduledJob[]): Promise<void> {
      if (jobs) throw new Error('scheduler already started');
      jobs = new Map(registered.map((job) => [job.name, job]));
      if (options.role === 'worker') {
        await registerSchedules(registered);
        // One job at a time per process; scale out with more worker processes.
        worker = new Worker(queueName, process, { connection: connect(), prefix, concurrency: 1 });
        worker.on('failed', (job, error) => options.log.error({ job: job?.name, id: job?.id, err: error }, 'job failed'));
        worker.on('error', (error) => (isConnectionError(error) ? reportDown(error) : options.log.error({ err: error }, 'worker error')));
        await worker.waitUntilReady();
      }
      options.log.info({ role: options.role, queue: queueName }, 'bullmq scheduler started');
    },

    async runNow(name: string, payload: unknown = {}): Promise<unknown> {
      const job = jobs?.get(name);
      if (!job) throw new Error(`job "${name}" is not scheduled (unknown job or scheduler not started)`);
      // Refused here, naming the field, instead of failing on a worker later.
      job.parsePayload(payload);
      const listener = await events();
      const added = await queue.add(name, payload, RETENTION);
      return added.waitUntilFinished(listener, options.runNowTimeoutMs ?? 10 * 60_000);
    },

    async stop(): Promise<void> {
      closing = true;
      await worker?.close();
      await queueEvents?.close();
      await queue.close();
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    },
  };
}
