import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { ingestEvents } from '../app/ingest-events.ts';
import type { Config } from '../config/config.ts';
import { pullSources, type PullDeps, type SourcePullResult } from './pull-sources.ts';

/**
 * The shape of src/worker/jobs/job-definition.ts (issue 8, core-jobs), declared here until the
 * registry lands; the lead replaces this with an import when merging.
 */
export interface JobDefinition<P = unknown> {
  name: string;
  schedule: { everyMs: (config: Readonly<Config>) => number } | { cron: string } | { onDemand: true };
  payload: z.ZodType<P>;
  handler(ctx: AppContext, payload: P): Promise<unknown>;
}

/** The use case's dependencies out of the AppContext (ingest through the shared use case). */
export function pullDepsOf(ctx: AppContext): PullDeps {
  return {
    sources: ctx.config.sources,
    state: ctx.sources.state,
    connector: ctx.sources.connector,
    ingest: (orgId, events) => ingestEvents(ctx, { orgId, events }),
    clock: ctx.clock,
    log: ctx.log,
    telemetry: ctx.telemetry,
    rawRetentionMs: ctx.config.retention.rawMs,
  };
}

const payload = z
  .object({
    trigger: z.enum(['schedule', 'manual']).default('schedule'),
    /** Only this source, due or not. */
    name: z.string().optional(),
  })
  .strict();

/** Each source says how often it is pulled (`every`); the job looks for due ones every minute. */
export const SOURCES_TICK_MS = 60_000;

export const sourcesPullJob: JobDefinition<z.infer<typeof payload>> = {
  name: 'sources-pull',
  schedule: { everyMs: () => SOURCES_TICK_MS },
  payload,
  async handler(ctx, input): Promise<SourcePullResult[]> {
    if (ctx.config.sources.length === 0) return [];
    return pullSources(pullDepsOf(ctx), { name: input.name });
  },
};
