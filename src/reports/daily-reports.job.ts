import { z } from 'zod';
import type { JobDefinition } from '../worker/jobs/job-definition.ts';
import { deliverDueReports } from './app/deliver-reports.ts';

/**
 * Daily reports: hourly at :05 UTC, each run finds, per organization, whether its local day
 * has ended and is not yet delivered, and retries earlier failures whose backoff has passed.
 * Idempotent (the ledger), so a duplicate or late run is harmless.
 */
const payload = z.object({ trigger: z.enum(['schedule', 'manual']).default('schedule') }).strict();

export const dailyReportsJob: JobDefinition<z.output<typeof payload>> = {
  name: 'daily-reports',
  schedule: { cron: '0 5 * * * *' },
  payload,
  handler: (ctx) => deliverDueReports(ctx),
};
