import { z } from 'zod';
import type { JobName } from '../ports/scheduler.ts';

/**
 * The schedule table and the payload contract of every job, in one place. Payloads carry
 * no work description: each job recomputes what is due from the database (dirty marks,
 * retention cutoffs, local midnights), so a job that runs twice or late does no harm.
 */
const trigger = z.enum(['schedule', 'manual']).default('schedule');

export const jobPayloadSchemas = {
  aggregate: z.object({ trigger }).strict(),
  cleanup: z.object({ trigger, dryRun: z.boolean().default(false) }).strict(),
  'daily-reports': z.object({ trigger }).strict(),
} satisfies Record<JobName, z.ZodType>;

export type JobPayload<N extends JobName> = z.infer<(typeof jobPayloadSchemas)[N]>;

export const JOB_SCHEDULE: Readonly<Record<JobName, string>> = {
  aggregate: 'every AGGREGATE_EVERY (default 60 s), one pass at a time per process, per-org leases across processes',
  cleanup: 'daily at 03:00 UTC (retention: raw events, then hour/day/week/month rollups)',
  'daily-reports': 'hourly at :05; each organization is reported once after its local midnight',
};

/** Throws a ZodError naming the bad field; BullMQ then fails the job without retrying. */
export function parseJobPayload(job: JobName, data: unknown): unknown {
  // BullMQ stores a missing payload as {} or null depending on the producer.
  return jobPayloadSchemas[job].parse(data ?? {});
}
