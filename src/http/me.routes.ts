import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { authenticate } from './auth.ts';
import { bearerSecurity, errorResponses, orgSchema, orgToJson } from './schemas.ts';

/** `GET /api/v1/me`: what the calling key may do, so the dashboard signs in with the key alone. */

export const meResponse = z.strictObject({
  key_id: z.string(),
  scope: z.enum(['ingest', 'read', 'admin']),
  organization: orgSchema.nullable().describe('The organization a read or ingest key belongs to; null for an admin key (all organizations)'),
});

export function registerMeRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/me', {
    schema: {
      tags: ['auth'],
      summary: "The calling key's scope and organization",
      security: bearerSecurity,
      response: { 200: meResponse, ...errorResponses(401) },
    },
    handler: async (request) => {
      const principal = await authenticate(request, ctx);
      const org = principal.orgId === null ? null : await ctx.orgStore.getOrg(principal.orgId);
      return { key_id: principal.keyId, scope: principal.scope, organization: org === null ? null : orgToJson(org) };
    },
  });
}
