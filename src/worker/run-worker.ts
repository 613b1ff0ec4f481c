import type { AppContext } from '../app/context.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import { bindJobs } from './bind-jobs.ts';

export interface WorkerDeps {
  /** Embedded scheduler (serve) or the BullMQ one in `worker` role (`meterboard worker`). */
  scheduler: Scheduler;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * Starts running the registry's jobs (src/worker/jobs/registry.ts) and returns a handle that
 * stops after the job in progress. The caller owns process signals (main/cli) and the
 * context's lifetime.
 */
export async function runWorker(ctx: AppContext, deps: WorkerDeps): Promise<RunningWorker> {
  await deps.scheduler.start(bindJobs(ctx));
  ctx.log.info({ aggregateEveryMs: ctx.config.aggregateEveryMs }, 'worker started');
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= deps.scheduler.stop().then(() => ctx.log.info({}, 'worker stopped'));
      return stopping;
    },
  };
}
