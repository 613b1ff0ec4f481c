import type { ApiKeyRecord, KeyScope, Organization } from '../domain/organization.ts';

/** Row shapes of the orgs and api_keys tables, identical in both engines' schemas. */
export interface OrgRow {
  id: string;
  name: string;
  timezone: string;
  created_at: number;
  updated_at: number;
}

export interface KeyRow {
  id: string;
  org_id: string;
  scope: KeyScope;
  name: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export const ORG_COLUMNS = 'id, name, timezone, created_at, updated_at';
export const KEY_COLUMNS = 'id, org_id, scope, name, key_hash, created_at, last_used_at, revoked_at';

export function toOrg(row: OrgRow): Organization {
  return { id: row.id, name: row.name, timezone: row.timezone, createdAt: row.created_at, updatedAt: row.updated_at };
}

export function toKey(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    scope: row.scope,
    name: row.name,
    keyHash: row.key_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
