import { Cron } from 'croner';
import type { Logger } from '../../ports/logger.ts';
import type { ScheduledJob, Scheduler } from '../../ports/scheduler.ts';
import { SerialJobRunner } from './job-runner.ts';
import { systemTimers, type Timers } from './timers.ts';

export interface EmbeddedSchedulerOptions {
  log: Logger;
  /** Time source; tests pass a manual one. */
  timers?: Timers;
}

/** setTimeout's ceiling (about 24.8 days); a later cron run is re-armed when this fires. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * In-process scheduler for embedded mode: each job one run at a time (a tick that finds its
 * job still running is skipped). croner only computes the next time of a cron pattern (UTC);
 * the timers come from `Timers`, so tests move time instead of sleeping.
 */
export function createEmbeddedScheduler(options: EmbeddedSchedulerOptions): Scheduler {
  const timers = options.timers ?? systemTimers;
  const jobs = new Map<string, { job: ScheduledJob; runner: SerialJobRunner }>();
  const cancels = new Map<string, () => void>();
  let started = false;
  let stopped = false;

  /** Arms one timer per job at a time; each firing arms the next, from the planned time so intervals do not drift. */
  function arm(name: string, at: number, next: (firedAt: number) => number | null, tick: () => void): void {
    if (stopped) return;
    const delay = Math.max(0, at - timers.now());
    cancels.set(
      name,
      timers.setTimeout(() => {
        if (timers.now() < at) return arm(name, at, next, tick);
        tick();
        const following = next(at);
        if (following !== null) arm(name, following, next, tick);
      }, Math.min(delay, MAX_DELAY_MS)),
    );
  }

  function schedule(job: ScheduledJob, runner: SerialJobRunner): void {
    const tick = () => void runner.tick({});
    const { schedule: when } = job;
    if ('everyMs' in when) {
      const every = Math.max(1, when.everyMs);
      // A run that overslept skips the missed ticks instead of firing them back to back.
      arm(job.name, timers.now() + every, (planned) => Math.max(planned + every, timers.now() + 1), tick);
    } else if ('cron' in when) {
      const pattern = new Cron(when.cron, { timezone: 'UTC', paused: true });
      const after = (ms: number) => pattern.nextRun(new Date(ms))?.getTime() ?? null;
      const first = after(timers.now());
      if (first !== null) arm(job.name, first, after, tick);
    }
  }

  return {
    async start(scheduled: readonly ScheduledJob[]): Promise<void> {
      if (started) throw new Error('scheduler already started');
      started = true;
      for (const job of scheduled) {
        if (jobs.has(job.name)) throw new Error(`job "${job.name}" is registered twice`);
        const runner = new SerialJobRunner(job.name, (payload) => job.run(job.parsePayload(payload)), options.log);
        jobs.set(job.name, { job, runner });
        schedule(job, runner);
      }
      options.log.info({ jobs: scheduled.map((job) => ({ name: job.name, ...job.schedule })) }, 'embedded scheduler started');
    },

    async runNow(name: string, payload: unknown = {}): Promise<unknown> {
      const entry = jobs.get(name);
      if (!entry) throw new Error(`job "${name}" is not scheduled (unknown job or scheduler not started)`);
      if (stopped) throw new Error('scheduler stopped');
      // Validated before queueing, so a bad payload is refused at once instead of after the run in progress.
      return entry.runner.runNow(entry.job.parsePayload(payload));
    },

    async stop(): Promise<void> {
      stopped = true;
      for (const cancel of cancels.values()) cancel();
      cancels.clear();
      await Promise.all([...jobs.values()].map(({ runner }) => runner.idle()));
    },
  };
}
