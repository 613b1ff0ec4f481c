import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { authenticate, authorizeOrg, requireGlobalAdmin } from '../http/auth.ts';
import { bearerSecurity, errorResponses } from '../http/schemas.ts';
import { createBusinessExport } from './business-export.ts';
import { CONTENT_TYPE } from './exposition.ts';
import { prometheusSettings } from './settings.ts';

/**
 * Business series for Prometheus (SPEC §4, issue 12): organization numbers only behind a key.
 * `/api/v1/prometheus` (admin key: every organization), `/api/v1/orgs/{org}/prometheus` (a
 * read key of that organization, or admin). Prometheus sends the key with
 * `authorization: { credentials: … }` in its scrape config.
 */
export function registerPrometheusRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const exporter = createBusinessExport(ctx, prometheusSettings(ctx.config, ctx.metrics));
  const text = { 200: z.string().describe('Prometheus text exposition format 0.0.4') };

  api.get('/api/v1/prometheus', {
    schema: {
      tags: ['operations'],
      summary: 'Business series of every organization for Prometheus (admin key)',
      produces: ['text/plain'],
      security: bearerSecurity,
      response: { ...text, ...errorResponses(401, 403) },
    },
    handler: async (request, reply) => {
      requireGlobalAdmin(await authenticate(request, ctx));
      return reply.type(CONTENT_TYPE).send(await exporter.renderAll());
    },
  });

  api.get('/api/v1/orgs/:org/prometheus', {
    schema: {
      tags: ['operations'],
      summary: "Business series of one organization for Prometheus (its read key, or admin)",
      produces: ['text/plain'],
      security: bearerSecurity,
      params: z.object({ org: z.string() }),
      response: { ...text, ...errorResponses(401, 403, 404) },
    },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      return reply.type(CONTENT_TYPE).send(await exporter.renderOrg(request.params.org));
    },
  });
}
