import { aggregateOrgJob } from './aggregate-org.ts';
import { aggregateJob } from './aggregate.ts';
import { cleanupJob } from './cleanup.ts';
import { sourcesPullJob } from '../../sources/pull-job.ts';
import { dailyReportsJob } from '../../reports/daily-reports.job.ts';
import { alertNotificationsJob } from '../../alerts/alert-notifications.job.ts';

/**
 * Every background job. Both schedulers read this list (embedded: croner timers in `serve`;
 * server: BullMQ job schedulers registered by `meterboard worker`). Adding a job is its
 * definition file plus one line here; names must be unique.
 */
export const JOBS = [aggregateJob, cleanupJob, aggregateOrgJob, sourcesPullJob, dailyReportsJob, alertNotificationsJob] as const;
