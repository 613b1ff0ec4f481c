import { z } from 'zod';
import type { JobDefinition } from '../worker/jobs/job-definition.ts';
import { deliverDueNotifications } from './app/deliver-notifications.ts';

/**
 * Alert notifications whose first attempt failed (SMTP down, webhook 5xx), retried once their
 * backoff has passed, every minute. The ledger makes a duplicate run, or one on each of two
 * workers, harmless.
 */
const payload = z.object({ trigger: z.enum(['schedule', 'manual']).default('schedule') }).strict();

export const alertNotificationsJob: JobDefinition<z.output<typeof payload>> = {
  name: 'alert-notifications',
  schedule: { everyMs: () => 60_000 },
  payload,
  handler: (ctx) => deliverDueNotifications(ctx),
};
