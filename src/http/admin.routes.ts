import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { evaluateAlertsAfter } from '../alerts/app/after-aggregation.ts';
import { aggregateDirtyBuckets, AggregationError, type AggregateResult } from '../app/aggregate.ts';
import type { AppContext } from '../app/context.ts';
import { createGlobalKey, listGlobalKeys, revokeGlobalKey } from '../app/global-keys.ts';
import { DomainError } from '../domain/errors.ts';
import { authenticate, requireGlobalAdmin } from './auth.ts';
import { bearerSecurity, createdKeySchema, errorResponseSchema, errorResponses, keySchema, keyToJson } from './schemas.ts';

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
  events: z.number().int().describe('Raw events read: those stored since each dirty hour was last aggregated, or all of an hour folded whole'),
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
      requireGlobalAdmin(await authenticate(request, ctx));
      try {
        const result = deps.aggregateNow
          ? asAggregateResult(await deps.aggregateNow())
          : await evaluateAlertsAfter(ctx, () => aggregateDirtyBuckets(ctx, { waitForLeaseMs: LEASE_WAIT_MS }));
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

  api.post('/api/v1/admin/keys', {
    schema: {
      tags: ['keys'],
      summary: 'Create a global admin key (global admin key); the secret is shown only in this response',
      description: 'A global key belongs to no organization and manages every one, like ADMIN_KEY. Keys created under an organization manage only that organization.',
      security: bearerSecurity,
      body: z.object({ name: z.string().optional().describe('What the key is for') }),
      response: { 201: createdKeySchema, ...errorResponses(400, 401, 403) },
    },
    handler: async (request, reply) => {
      requireGlobalAdmin(await authenticate(request, ctx));
      const { record, secret } = await createGlobalKey(ctx, request.body ?? {});
      const { last_used_at: _unused, ...shown } = keyToJson(record);
      return reply.code(201).send({ ...shown, key: secret });
    },
  });

  api.get('/api/v1/admin/keys', {
    schema: {
      tags: ['keys'],
      summary: 'List the active global admin keys (global admin key); never shows secrets',
      security: bearerSecurity,
      response: { 200: z.object({ keys: z.array(keySchema) }), ...errorResponses(401, 403) },
    },
    handler: async (request) => {
      requireGlobalAdmin(await authenticate(request, ctx));
      return { keys: (await listGlobalKeys(ctx)).map(keyToJson) };
    },
  });

  api.delete('/api/v1/admin/keys/:id', {
    schema: {
      tags: ['keys'],
      summary: 'Revoke a global admin key (global admin key)',
      security: bearerSecurity,
      params: z.object({ id: z.string().min(1).max(128) }),
      response: { 204: z.null().describe('Revoked'), ...errorResponses(401, 403, 404) },
    },
    handler: async (request, reply) => {
      requireGlobalAdmin(await authenticate(request, ctx));
      await revokeGlobalKey(ctx, request.params.id);
      return reply.code(204).send(null);
    },
  });
}
