import { z } from 'zod';
import type { ApiKeyRecord, Organization } from '../domain/organization.ts';
import { GLOBAL_KEY_ORG } from '../app/authenticate.ts';

/** Request/response schemas shared by route files; they double as the OpenAPI document. */

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. validation, unauthorized, forbidden, not_found'),
      message: z.string().describe('What went wrong, naming the field or parameter when there is one'),
      details: z.unknown().optional(),
    }),
  })
  .describe('Error');

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/** `response` entries for the error statuses a route can answer with. */
export function errorResponses<const S extends readonly ErrorStatus[]>(...statuses: S): { [K in S[number]]: typeof errorResponseSchema } {
  return Object.fromEntries(statuses.map((status) => [status, errorResponseSchema])) as { [K in S[number]]: typeof errorResponseSchema };
}

/** Routes that need a key. */
export const bearerSecurity = [{ bearerAuth: [] as string[] }];

const isoInstant = z.string().describe('ISO 8601 instant (UTC)');

export const orgSchema = z.object({
  id: z.string(),
  name: z.string(),
  timezone: z.string().describe('IANA time zone; buckets are aligned to it'),
  created_at: isoInstant,
  updated_at: isoInstant,
});

export function orgToJson(org: Organization): z.infer<typeof orgSchema> {
  return {
    id: org.id,
    name: org.name,
    timezone: org.timezone,
    created_at: new Date(org.createdAt).toISOString(),
    updated_at: new Date(org.updatedAt).toISOString(),
  };
}

export const keySchema = z.object({
  id: z.string(),
  org_id: z.string().nullable().describe('null for global admin keys'),
  scope: z.enum(['ingest', 'read', 'admin']),
  name: z.string(),
  created_at: isoInstant,
  last_used_at: isoInstant.nullable(),
});

export const createdKeySchema = z.object({
  id: z.string(),
  key: z.string().describe('The secret. Shown only in this response; store it now.'),
  scope: z.enum(['ingest', 'read', 'admin']),
  name: z.string(),
  org_id: z.string().nullable().describe('null for global admin keys'),
  created_at: isoInstant,
});

export function keyToJson(key: ApiKeyRecord): z.infer<typeof keySchema> {
  return {
    id: key.id,
    org_id: key.orgId === GLOBAL_KEY_ORG ? null : key.orgId,
    scope: key.scope,
    name: key.name,
    created_at: new Date(key.createdAt).toISOString(),
    last_used_at: key.lastUsedAt === null ? null : new Date(key.lastUsedAt).toISOString(),
  };
}

export const orgParamsSchema = z.object({ org: z.string().min(1).max(128) });
