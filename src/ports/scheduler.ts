/** When a job runs, with config already applied (src/worker/jobs/job-definition.ts has the config-taking form). */
export type JobSchedule = { everyMs: number } | { cron: string } | { onDemand: true };

/** A registry job bound to its context: what a scheduler runs. The scheduler never knows job names. */
export interface ScheduledJob {
  name: string;
  schedule: JobSchedule;
  /** Returns the validated payload (defaults applied) or throws an error naming the bad field. */
  parsePayload(data: unknown): unknown;
  run(payload: unknown): Promise<unknown>;
}

/**
 * Runs the registry's jobs. Embedded: in-process timers, each job one run at a time. Server:
 * BullMQ job schedulers; `meterboard worker` registers the schedules and consumes, the API
 * process only submits run-now jobs. Scheduled runs get the payload `{}` (the schema's defaults).
 */
export interface Scheduler {
  start(jobs: readonly ScheduledJob[]): Promise<void>;
  /**
   * Runs one job now with this payload (after the run in progress in embedded mode, on a
   * worker through the queue in server mode) and resolves with its result. Rejects for an
   * unknown job or an invalid payload without running anything.
   */
  runNow(job: string, payload?: unknown): Promise<unknown>;
  /** Stops scheduling, waits for the run in progress, releases connections. */
  stop(): Promise<void>;
}
