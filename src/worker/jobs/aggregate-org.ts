import { z } from 'zod';
import { evaluateOrgAlertsAfter } from '../../alerts/app/after-aggregation.ts';
import { rebuildPass } from '../../app/rebuild-org.ts';
import type { JobDefinition } from './job-definition.ts';

const aggregateOrgPayload = z.object({ orgId: z.string().min(1) }).strict();

/**
 * Aggregates one organization now, on demand: the second half of a time-zone rebuild (the
 * API deletes the old-zone rollups and marks the hours before it answers, then queues this),
 * then the organization's alert rules: the pass drained its marks, so no later pass would.
 */
export const aggregateOrgJob: JobDefinition<z.infer<typeof aggregateOrgPayload>> = {
  name: 'aggregate-org',
  schedule: { onDemand: true },
  payload: aggregateOrgPayload,
  handler: (ctx, payload) => evaluateOrgAlertsAfter(ctx, [payload.orgId], () => rebuildPass(ctx, payload.orgId)),
};
