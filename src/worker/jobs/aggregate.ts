import { z } from 'zod';
import { evaluateAlertsAfter } from '../../alerts/app/after-aggregation.ts';
import { aggregateDirtyBuckets } from '../../app/aggregate.ts';
import type { JobDefinition } from './job-definition.ts';

/** Waits this long for an organization another worker is aggregating, when asked to (admin "aggregate now"). */
const MAX_LEASE_WAIT_MS = 10 * 60_000;

const aggregatePayload = z
  .object({
    trigger: z.enum(['schedule', 'manual']).default('schedule'),
    waitForLeaseMs: z.number().int().min(0).max(MAX_LEASE_WAIT_MS).optional(),
  })
  .strict();

/**
 * One aggregation pass over every organization with dirty hours, then the alert rules of the
 * organizations it touched. Idempotent: a pass that runs twice or late recomputes from the
 * dirty marks and does no harm.
 */
export const aggregateJob: JobDefinition<z.infer<typeof aggregatePayload>> = {
  name: 'aggregate',
  schedule: { everyMs: (config) => config.aggregateEveryMs },
  payload: aggregatePayload,
  handler: (ctx, payload) =>
    evaluateAlertsAfter(ctx, () => aggregateDirtyBuckets(ctx, payload.waitForLeaseMs === undefined ? {} : { waitForLeaseMs: payload.waitForLeaseMs })),
};
