import type { AppContext } from '../app/context.ts';
import type { JobSchedule, ScheduledJob } from '../ports/scheduler.ts';
import type { JobDefinition } from './jobs/job-definition.ts';
import { JOBS } from './jobs/registry.ts';

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Throws on a duplicate or non-kebab-case name, so a bad registry line fails at start, not at the first run. */
function checkRegistry(jobs: readonly JobDefinition[]): void {
  const seen = new Set<string>();
  for (const job of jobs) {
    if (!KEBAB_CASE.test(job.name)) throw new Error(`job name "${job.name}" is not kebab-case`);
    if (seen.has(job.name)) throw new Error(`job "${job.name}" is registered twice`);
    seen.add(job.name);
  }
}

/** Validates a payload against the job's schema; a missing one (BullMQ stores {} or null) gets the defaults. */
function parseWith(job: JobDefinition, data: unknown): unknown {
  const parsed = job.payload.safeParse(data ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(payload)';
  throw new Error(`invalid payload for job "${job.name}": ${field}: ${issue.message}`);
}

/** Binds the registry's definitions to a context and its config: what a Scheduler runs. */
export function bindJobs(ctx: AppContext, jobs: readonly JobDefinition[] = JOBS): ScheduledJob[] {
  checkRegistry(jobs);
  return jobs.map((job) => {
    const schedule: JobSchedule = 'everyMs' in job.schedule ? { everyMs: job.schedule.everyMs(ctx.config) } : job.schedule;
    return {
      name: job.name,
      schedule,
      parsePayload: (data) => parseWith(job, data),
      run: (payload) => job.handler(ctx, payload),
    };
  });
}

/** The payload schemas by job name, for callers that validate without a context. */
export const jobPayloadSchemas = Object.fromEntries(JOBS.map((job) => [job.name, job.payload]));

/** Throws an error naming the job and the bad field. */
export function parseJobPayload(name: string, data: unknown): unknown {
  const job = JOBS.find((candidate) => candidate.name === name);
  if (!job) throw new Error(`unknown job "${name}"`);
  return parseWith(job, data);
}
