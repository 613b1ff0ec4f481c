import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { createKey, createOrg, getOrg, listKeys, listOrgs, revokeKey, updateOrg } from '../app/manage-orgs.ts';
import type { OnTimezoneChanged } from '../app/manage-orgs.ts';
import { authenticate, authorizeOrg, isGlobalAdmin, requireGlobalAdmin } from './auth.ts';
import {
  bearerSecurity,
  createdKeySchema,
  errorResponses,
  keySchema,
  keyToJson,
  orgParamsSchema,
  orgSchema,
  orgToJson,
} from './schemas.ts';

/** Organizations and API keys (SPEC §4 Administration). Semantic checks live in the use cases. */

const createOrgBody = z.object({
  id: z.string().describe('Slug [a-z0-9][a-z0-9_-]{0,62} or a UUID'),
  name: z.string().optional().describe('Display name; defaults to the id'),
  timezone: z.string().optional().describe('IANA time zone, default UTC (or DEFAULT_TIMEZONE)'),
});

const patchOrgBody = z
  .object({
    name: z.string().optional(),
    timezone: z.string().optional().describe('Changing it rebuilds the organization\u2019s rollups in the new zone'),
  })
  .strict();

const createKeyBody = z.object({
  scope: z.enum(['ingest', 'read', 'admin']),
  name: z.string().optional().describe('What the key is for; defaults to "<scope> key"'),
});

const keyParams = orgParamsSchema.extend({ id: z.string().min(1).max(128) });

export function registerOrgRoutes(app: FastifyInstance, ctx: AppContext, hooks: { onTimezoneChanged?: OnTimezoneChanged } = {}): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/api/v1/orgs', {
    schema: {
      tags: ['organizations'],
      summary: 'Create an organization (global admin key)',
      security: bearerSecurity,
      body: createOrgBody,
      response: { 201: orgSchema, ...errorResponses(400, 401, 403, 409) },
    },
    handler: async (request, reply) => {
      requireGlobalAdmin(await authenticate(request, ctx));
      const org = await createOrg(ctx, request.body);
      return reply.code(201).send(orgToJson(org));
    },
  });

  api.get('/api/v1/orgs', {
    schema: {
      tags: ['organizations'],
      summary: 'List organizations (global admin keys see all, other keys their own)',
      security: bearerSecurity,
      response: { 200: z.object({ orgs: z.array(orgSchema) }), ...errorResponses(401, 403) },
    },
    handler: async (request) => {
      const principal = await authenticate(request, ctx);
      if (isGlobalAdmin(principal)) return { orgs: (await listOrgs(ctx)).map(orgToJson) };
      const orgId = principal.orgId ?? '';
      authorizeOrg(principal, orgId, 'read');
      return { orgs: [orgToJson(await getOrg(ctx, orgId))] };
    },
  });

  api.get('/api/v1/orgs/:org', {
    schema: {
      tags: ['organizations'],
      summary: 'Get an organization',
      security: bearerSecurity,
      params: orgParamsSchema,
      response: { 200: orgSchema, ...errorResponses(401, 403, 404) },
    },
    handler: async (request) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      return orgToJson(await getOrg(ctx, request.params.org));
    },
  });

  api.patch('/api/v1/orgs/:org', {
    schema: {
      tags: ['organizations'],
      summary: 'Rename an organization or change its time zone (admin key)',
      security: bearerSecurity,
      params: orgParamsSchema,
      body: patchOrgBody,
      response: { 200: orgSchema, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      const org = await updateOrg(ctx, { id: request.params.org, ...request.body }, hooks.onTimezoneChanged);
      return orgToJson(org);
    },
  });

  api.post('/api/v1/orgs/:org/keys', {
    schema: {
      tags: ['keys'],
      summary: 'Create an API key (admin key); the secret is shown only in this response',
      security: bearerSecurity,
      params: orgParamsSchema,
      body: createKeyBody,
      response: { 201: createdKeySchema, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      const { record, secret } = await createKey(ctx, { orgId: request.params.org, ...request.body });
      const { last_used_at: _unused, ...shown } = keyToJson(record);
      return reply.code(201).send({ ...shown, key: secret });
    },
  });

  api.get('/api/v1/orgs/:org/keys', {
    schema: {
      tags: ['keys'],
      summary: 'List the active API keys of an organization (admin key); never shows secrets',
      security: bearerSecurity,
      params: orgParamsSchema,
      response: { 200: z.object({ keys: z.array(keySchema) }), ...errorResponses(401, 403, 404) },
    },
    handler: async (request) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      return { keys: (await listKeys(ctx, request.params.org)).map(keyToJson) };
    },
  });

  api.delete('/api/v1/orgs/:org/keys/:id', {
    schema: {
      tags: ['keys'],
      summary: 'Revoke an API key (admin key)',
      security: bearerSecurity,
      params: keyParams,
      response: { 204: z.null().describe('Revoked'), ...errorResponses(401, 403, 404) },
    },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      await revokeKey(ctx, request.params.org, request.params.id);
      return reply.code(204).send(null);
    },
  });
}
