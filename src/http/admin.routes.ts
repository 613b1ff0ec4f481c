import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { aggregateDirtyBuckets, AggregationError, type AggregateResult } from '../app/aggregate.ts';
import type { AppContext } from '../app/context.ts';
import { DomainError } from '../domain/errors.ts';
import { authenticate, requireAdmin } from './auth.ts';
import { bearerSecurity, errorResponseSchema, errorResponses } from './schemas.ts';

export interface AdminRouteDeps {
  /**
   * When given, runs the pass elsewhere and resolves with its result (server mode: a run-now
   * job on a worker, wired in compose.ts). Without it, the pass runs in this process.
   */
  aggregateNow?: () => Promise<unknown>;
}

/** How long an in-process pass waits for an organization another worker is aggregating. */
const LEASE_WAIT_MS = 60_000;

const aggregateResponse = z.object({
  buckets: z.number().int().describe('Rollup buckets rewritten, all tiers together'),
  events: z.number().int().describe('Raw events read'),
  duration_ms: z.number(),
  orgs: z.number().int().optional().describe('Organizations aggregated'),
  skipped: z.array(z.string()).optional().describe('Organizations another worker was aggregating'),
});

function asAggregateResult(value: unknown): AggregateResult {
  const parsed = aggregateResponse.safeParse(value);
  if (!parsed.success) throw new Error('the aggregation job returned no pass result');
  return { orgs: 0, skipped: [], ...parsed.data };
}

export function registerAdminRoutes(app: FastifyInstance, ctx: AppContext, deps: AdminRouteDeps = {}): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/api/v1/admin/aggregate', {
    schema: {
      tags: ['administration'],
      summary: 'Run one aggregation pass now (admin key)',
      description: 'Recomputes every dirty hour and the day/week/month buckets containing them, then answers with what it did.',
      security: bearerSecurity,
      response: { 200: aggregateResponse, 500: errorResponseSchema, ...errorResponses(401, 403, 503) },
    },
    handler: async (request, reply) => {
      requireAdmin(await authenticate(request, ctx));
      try {
        const result = deps.aggregateNow
          ? asAggregateResult(await deps.aggregateNow())
          : await aggregateDirtyBuckets(ctx, { waitForLeaseMs: LEASE_WAIT_MS });
        return reply.code(200).send(result);
      } catch (error) {
        if (error instanceof DomainError) throw error;
        // A failed pass is reported as a failure, with which organizations failed, never as success.
        request.log.error({ err: error }, 'aggregation pass failed');
        const details = error instanceof AggregationError ? { failures: error.failures, result: error.result } : undefined;
        return reply.code(500).send({
          error: { code: 'aggregation_failed', message: error instanceof Error ? error.message : 'aggregation failed', ...(details ? { details } : {}) },
        });
      }
    },
  });
}
