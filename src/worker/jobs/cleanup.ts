import { z } from 'zod';
import { applyRetention } from '../../app/apply-retention.ts';
import type { JobDefinition } from './job-definition.ts';

const cleanupPayload = z
  .object({
    trigger: z.enum(['schedule', 'manual']).default('schedule'),
    dryRun: z.boolean().default(false),
  })
  .strict();

/** Retention, daily at 03:00 UTC: raw events, then hour/day/week/month rollups past their cutoffs. */
export const cleanupJob: JobDefinition<z.infer<typeof cleanupPayload>> = {
  name: 'cleanup',
  schedule: { cron: '0 0 3 * * *' },
  payload: cleanupPayload,
  handler: (ctx, payload) => applyRetention(ctx, { dryRun: payload.dryRun }),
};
