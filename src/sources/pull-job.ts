import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { ingestEvents } from '../app/ingest-events.ts';
import type { JobDefinition } from '../worker/jobs/job-definition.ts';
import { pullSources, type PullDeps, type SourcePullResult } from './pull-sources.ts';

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
    // Registered whether or not sources are configured: without any, a run costs nothing.
    if (ctx.config.sources.length === 0) return [];
    return pullSources(pullDepsOf(ctx), { name: input.name });
  },
};
