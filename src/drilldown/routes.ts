import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { authenticate, authorizeOrg } from '../http/auth.ts';
import { bearerSecurity, errorResponses, orgParamsSchema } from '../http/schemas.ts';
import { listEvents, MAX_EVENTS_LIMIT } from './list-events.ts';

/** `GET /api/v1/orgs/{org}/events`: the raw events behind a number, newest first, a page at a time. */

const FILTER_PREFIX = 'filter.';
const text = z.string().max(200).refine((v) => !v.includes('\u0000'), 'must not contain the NUL character');

export const eventsQuery = z.looseObject({
  start: z.string().max(64).optional().describe('Range start (inclusive), default end − 7 days'),
  end: z.string().max(64).optional().describe('Range end (exclusive), default now'),
  tz: z.string().max(64).optional(),
  type: z.string().max(500).optional().describe('Event type(s), comma-separated'),
  metric: z.string().max(200).optional().describe('Only events that feed this metric (its event type and conditions)'),
  project: text.optional(),
  tag: text.optional(),
  cursor: z.string().max(500).optional().describe('next_cursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS_LIMIT).optional().describe(`1–${MAX_EVENTS_LIMIT}, default 50`),
  nonzero: z.enum(['true', 'false']).optional().describe('true: with a valued metric, only events whose value is not zero (e.g. pages that failed)'),
}).describe('Plus filter.<attribute>=value: only events whose attribute equals value');

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const eventsResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  events: z.array(
    z.strictObject({
      id: z.string(),
      type: z.string(),
      timestamp: z.string(),
      project: z.string(),
      tag: z.string(),
      attributes: z.record(z.string(), attributeValue),
    }),
  ),
  next_cursor: z.string().nullable().describe('null on the last page'),
});

export function registerDrilldownRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/orgs/:org/events', {
    schema: {
      tags: ['query'],
      summary: 'Raw events behind a number: newest first, filtered like the metrics, cursor-paginated',
      security: bearerSecurity,
      params: orgParamsSchema,
      querystring: eventsQuery,
      response: { 200: eventsResponse, ...errorResponses(400, 401, 403, 404) },
    },
    onRequest: async (request) => {
      const principal = await authenticate(request, ctx);
      authorizeOrg(principal, (request.params as { org?: string }).org ?? '', 'read');
    },
    handler: async (request) => {
      const q = request.query;
      const filters: Record<string, string> = {};
      for (const [key, value] of Object.entries(q)) {
        if (key.startsWith(FILTER_PREFIX) && typeof value === 'string' && key.length > FILTER_PREFIX.length) filters[key.slice(FILTER_PREFIX.length)] = value;
      }
      return listEvents(ctx, {
        orgId: request.params.org,
        start: q.start,
        end: q.end,
        tz: q.tz,
        type: q.type,
        metric: q.metric,
        project: q.project,
        tag: q.tag,
        cursor: q.cursor,
        limit: q.limit,
        nonZero: q.nonzero === 'true',
        filters,
      });
    },
  });
}
