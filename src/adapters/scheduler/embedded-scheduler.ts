import { Cron } from 'croner';
import type { Logger } from '../../ports/logger.ts';
import type { JobHandlers, JobName, Scheduler } from '../../ports/scheduler.ts';
import { SerialJobRunner } from './job-runner.ts';

export interface EmbeddedSchedulerOptions {
  aggregateEveryMs: number;
  log: Logger;
  /** Cron pattern (UTC) of the retention cleanup; daily at 03:00 by default. */
  cleanupPattern?: string;
  /** Cron pattern (UTC) of the daily-reports check; each org is reported after its own local midnight. */
  dailyReportsPattern?: string;
}

export const CLEANUP_PATTERN = '0 0 3 * * *';
export const DAILY_REPORTS_PATTERN = '0 5 * * * *';

/**
 * In-process scheduler for embedded mode: croner timers, each job one run at a time
 * (a tick that finds its job still running is skipped).
 */
export function createEmbeddedScheduler(options: EmbeddedSchedulerOptions): Scheduler {
  const runners = new Map<JobName, SerialJobRunner>();
  const timers: Cron[] = [];
  let started = false;

  function schedule(pattern: string, runner: SerialJobRunner, extra: { interval?: number } = {}): void {
    timers.push(new Cron(pattern, { timezone: 'UTC', unref: true, ...extra }, () => runner.tick()));
  }

  return {
    async start(handlers: JobHandlers): Promise<void> {
      if (started) throw new Error('scheduler already started');
      started = true;
      runners.set('aggregate', new SerialJobRunner('aggregate', () => handlers.aggregate(), options.log));
      runners.set('cleanup', new SerialJobRunner('cleanup', () => handlers.cleanup(), options.log));
      const reports = handlers['daily-reports'];
      if (reports) runners.set('daily-reports', new SerialJobRunner('daily-reports', () => reports(), options.log));

      // croner fires at most once a second; `interval` stretches that to AGGREGATE_EVERY.
      const everySeconds = Math.max(1, Math.round(options.aggregateEveryMs / 1000));
      schedule('* * * * * *', runners.get('aggregate')!, { interval: everySeconds });
      schedule(options.cleanupPattern ?? CLEANUP_PATTERN, runners.get('cleanup')!);
      const reportRunner = runners.get('daily-reports');
      if (reportRunner) schedule(options.dailyReportsPattern ?? DAILY_REPORTS_PATTERN, reportRunner);
      options.log.info({ aggregateEverySeconds: everySeconds }, 'embedded scheduler started');
    },

    runNow(job: JobName): Promise<unknown> {
      const runner = runners.get(job);
      if (!runner) return Promise.reject(new Error(`job "${job}" is not scheduled (scheduler not started or no handler)`));
      return runner.runNow();
    },

    async stop(): Promise<void> {
      for (const timer of timers.splice(0)) timer.stop();
      await Promise.all([...runners.values()].map((runner) => runner.idle()));
    },
  };
}
