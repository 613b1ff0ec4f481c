/**
 * Runs the periodic jobs (aggregation, retention, daily reports). Embedded: in-process
 * timers, one run at a time. Server: BullMQ job schedulers consumed by `meterboard worker`.
 */
export type JobName = 'aggregate' | 'cleanup' | 'daily-reports';

export interface JobHandlers {
  aggregate(): Promise<unknown>;
  cleanup(): Promise<unknown>;
  'daily-reports'?(): Promise<unknown>;
}

export interface Scheduler {
  start(handlers: JobHandlers): Promise<void>;
  /** Runs one job now (through the queue in server mode) and resolves with its result. */
  runNow(job: JobName): Promise<unknown>;
  stop(): Promise<void>;
}
