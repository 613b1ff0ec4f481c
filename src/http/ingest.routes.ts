import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ingestEvents, type IngestDeps } from '../app/ingest-events.ts';
import { DomainError, ForbiddenError, ValidationError } from '../domain/errors.ts';
import { authenticate, authorizeOrg } from './auth.ts';
import type { Principal } from './auth.ts';
import { NDJSON_TYPES } from './body-parsers.ts';
import { bearerSecurity, errorResponses } from './schemas.ts';

const eventSchema = z
  .looseObject({
    id: z.string().max(128).optional().describe('Idempotency key: the same (organization, id) is stored once'),
    type: z.string().describe('llm_call, page_usage, workflow_execution, file_execution, hitl_review, api_request, trace, document_event, chat_message, gauge, or a custom type'),
    timestamp: z.string().describe('ISO 8601 with an offset or Z'),
    project: z.string().optional().describe('Defaults to "default"'),
    tag: z.string().optional().describe('Defaults to ""'),
  })
  .describe('One event: the envelope plus flat attributes (string, number, boolean or null)');

const ingestBodySchema = z.union([z.array(eventSchema), z.object({ events: z.array(eventSchema) })]);

const ingestResultSchema = z.object({
  accepted: z.number().int().describe('Events stored by this request'),
  duplicates: z.number().int().describe('Valid events whose (organization, id) was already stored'),
  rejected: z.array(
    z.object({
      index: z.number().int().describe('Position of the event in the batch (NDJSON: among the non-blank lines)'),
      errors: z.array(z.object({ field: z.string(), message: z.string() })),
    }),
  ),
  warnings: z
    .array(z.object({ index: z.number().int(), field: z.string(), message: z.string() }))
    .optional()
    .describe('Accepted events worth a note, e.g. an event type no metric reads; absent when there are none'),
});

function eventsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)) return (body as { events: unknown[] }).events;
  if (typeof body === 'string' || body === undefined || Buffer.isBuffer(body)) {
    // fastify's text/plain parser hands us a string; events come only as JSON or NDJSON
    throw Object.assign(new Error(`send the events as application/json or ${NDJSON_TYPES[0]}`), { statusCode: 415 });
  }
  throw ValidationError.field('body', 'must be a JSON array of events or an object {"events": [...]}');
}

/** The organization the events go to: the key's own, or `?org=` for admin keys. */
export function targetOrg(principal: Principal, requested: string | undefined, route = 'POST /api/v1/events'): string {
  if (principal.scope === 'admin') {
    const orgId = requested ?? principal.orgId;
    if (!orgId) throw ValidationError.field('org', `a global admin key must name the organization: ${route}?org=<id>`);
    authorizeOrg(principal, orgId, 'ingest');
    return orgId;
  }
  if (requested !== undefined && requested !== principal.orgId) throw new ForbiddenError('this key may not write events for another organization');
  const orgId = principal.orgId ?? '';
  authorizeOrg(principal, orgId, 'ingest');
  return orgId;
}

export function registerIngestRoutes(app: FastifyInstance, ctx: IngestDeps & Parameters<typeof authenticate>[1]): void {
  const { maxBodyBytes, maxEventsPerRequest } = ctx.config.limits;
  app.withTypeProvider<ZodTypeProvider>().route({
    method: 'POST',
    url: '/api/v1/events',
    bodyLimit: maxBodyBytes,
    schema: {
      tags: ['ingest'],
      summary: 'Ingest events',
      description: [
        `A JSON array, {"events": [...]}, or NDJSON (application/x-ndjson), optionally gzip-encoded;`,
        `at most ${maxEventsPerRequest} events and ${maxBodyBytes} bytes (decompressed) per request.`,
        'Valid events are stored even when others are rejected; each rejection names its index and reason.',
        'Ingest keys write to their own organization; global admin keys name it with ?org=.',
      ].join(' '),
      security: bearerSecurity,
      querystring: z.object({ org: z.string().min(1).max(128).optional().describe('Target organization (admin keys)') }),
      body: ingestBodySchema,
      response: { 200: ingestResultSchema, ...errorResponses(400, 401, 403, 404, 413, 415) },
    },
    // Per-event validation happens in the use case, so one bad item never fails the batch;
    // the body schema above is documentation.
    validatorCompiler: (route) => (route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0])),
    // Authenticate before the body is read: an unknown key must not get to upload 5 MB first.
    onRequest: async (request: FastifyRequest) => {
      await authenticate(request, ctx);
    },
    handler: async (request) => {
      const principal = await authenticate(request, ctx);
      const orgId = targetOrg(principal, request.query.org);
      const events = eventsOf(request.body);
      if (events.length > maxEventsPerRequest) {
        throw new DomainError('payload_too_large', `at most ${maxEventsPerRequest} events per request; this one has ${events.length}`);
      }
      return ingestEvents(ctx, { orgId, events });
    },
  });
}
