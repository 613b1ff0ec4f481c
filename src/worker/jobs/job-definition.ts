import type { z } from 'zod';
import type { AppContext } from '../../app/context.ts';
import type { Config } from '../../config/config.ts';

/**
 * A background job as data: adding one is this definition in its own file plus one line in
 * registry.ts. Both schedulers (croner in embedded mode, BullMQ in server mode) read the
 * registry, so no scheduler, port or shell names a job.
 */
export interface JobDefinition<P = unknown> {
  /** Unique kebab-case name; also the BullMQ job name. */
  name: string;
  /** When it runs: every N ms taken from config, a UTC cron pattern (6 fields, croner syntax), or only on demand. */
  schedule: { everyMs: (config: Readonly<Config>) => number } | { cron: string } | { onDemand: true };
  /** zod schema of the payload; a bad payload fails the job for good. */
  payload: z.ZodType<P>;
  handler(ctx: AppContext, payload: P): Promise<unknown>;
}
