import { z } from 'zod';
import { aggregateDirtyBuckets } from '../../app/aggregate.ts';
import type { JobDefinition } from './job-definition.ts';

/** A large organization's rebuild may wait for a scheduled pass that holds its lease. */
const LEASE_WAIT_MS = 10 * 60_000;

const aggregateOrgPayload = z.object({ orgId: z.string().min(1) }).strict();

/**
 * Aggregates one organization now, on demand: the second half of a time-zone rebuild (the
 * API deletes the old-zone rollups and marks the hours before it answers, then queues this).
 */
export const aggregateOrgJob: JobDefinition<z.infer<typeof aggregateOrgPayload>> = {
  name: 'aggregate-org',
  schedule: { onDemand: true },
  payload: aggregateOrgPayload,
  handler: (ctx, payload) => aggregateDirtyBuckets(ctx, { orgId: payload.orgId, waitForLeaseMs: LEASE_WAIT_MS }),
};
