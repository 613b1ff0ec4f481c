import { aggregateDirtyBuckets } from '../app/aggregate.ts';
import { applyRetention } from '../app/apply-retention.ts';
import type { AppContext } from '../app/context.ts';
import type { JobHandlers, Scheduler } from '../ports/scheduler.ts';

export interface WorkerDeps {
  /** Embedded scheduler (serve) or the BullMQ one in `worker` role (`meterboard worker`). */
  scheduler: Scheduler;
  /** Daily reports use case, when the reports feature is wired. */
  dailyReports?: () => Promise<unknown>;
}

/** The schedule table's jobs mapped to their use cases. Each is idempotent, so a duplicate or late run is harmless. */
export function jobHandlers(ctx: AppContext, extra: Pick<WorkerDeps, 'dailyReports'> = {}): JobHandlers {
  const handlers: JobHandlers = {
    aggregate: () => aggregateDirtyBuckets(ctx),
    cleanup: () => applyRetention(ctx, { dryRun: false }),
  };
  if (extra.dailyReports) handlers['daily-reports'] = extra.dailyReports;
  return handlers;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * Starts consuming jobs and returns a handle that stops after the job in progress. The
 * caller owns process signals (main/cli) and the context's lifetime.
 */
export async function runWorker(ctx: AppContext, deps: WorkerDeps): Promise<RunningWorker> {
  await deps.scheduler.start(jobHandlers(ctx, deps));
  ctx.log.info({ aggregateEveryMs: ctx.config.aggregateEveryMs }, 'worker started');
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= deps.scheduler.stop().then(() => ctx.log.info({}, 'worker stopped'));
      return stopping;
    },
  };
}
