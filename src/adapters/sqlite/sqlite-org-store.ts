import type { Database } from 'better-sqlite3';
import { lazy } from './lazy-statement.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { KeyScope } from '../../domain/organization.ts';
import { KEY_COLUMNS, ORG_COLUMNS, toKey, toOrg, type KeyRow, type OrgRow } from '../org-rows.ts';
import type { DataVersions, KeyStore, OrgStore } from '../../ports/storage.ts';


function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function sqliteOrgStore(db: Database): OrgStore & DataVersions & KeyStore {
  const sql = lazy(() => ({
    insertOrg: db.prepare('INSERT INTO orgs (id, name, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
    selectOrg: db.prepare<[string], OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs WHERE id = ?`),
    selectOrgs: db.prepare<[], OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs ORDER BY id`),
    updateOrg: db.prepare<[string | null, string | null, number, string], OrgRow>(
      `UPDATE orgs SET name = coalesce(?, name), timezone = coalesce(?, timezone), updated_at = ?
       WHERE id = ? RETURNING ${ORG_COLUMNS}`,
    ),
    selectVersion: db.prepare<[string], number>('SELECT data_version FROM orgs WHERE id = ?').pluck(),
    selectOrgAndVersion: db.prepare<[string], OrgRow & { data_version: number }>(`SELECT ${ORG_COLUMNS}, data_version FROM orgs WHERE id = ?`),
    bumpVersion: db
      .prepare<[string], number>('UPDATE orgs SET data_version = data_version + 1 WHERE id = ? RETURNING data_version')
      .pluck(),
    insertKey: db.prepare<[string, string, KeyScope, string, string, number], KeyRow>(
      `INSERT INTO api_keys (id, org_id, scope, name, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)
       RETURNING ${KEY_COLUMNS}`,
    ),
    selectKeyByHash: db.prepare<[string], KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL`,
    ),
    selectKeys: db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at, id`),
    revokeKey: db.prepare<[number, string, string]>(
      'UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL',
    ),
    touchKey: db.prepare<[number, string]>('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
  }));

  return {
    async createOrg(org, now) {
      try {
        sql().insertOrg.run(org.id, org.name, org.timezone, now, now);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`organization "${org.id}" already exists`);
        throw error;
      }
      return { ...org, createdAt: now, updatedAt: now };
    },
    async getOrg(id) {
      const row = sql().selectOrg.get(id);
      return row ? toOrg(row) : null;
    },
    async listOrgs() {
      return sql().selectOrgs.all().map(toOrg);
    },
    async updateOrg(id, patch, now) {
      const row = sql().updateOrg.get(patch.name ?? null, patch.timezone ?? null, now, id);
      return row ? toOrg(row) : null;
    },
    async getDataVersion(orgId) {
      return sql().selectVersion.get(orgId) ?? 0;
    },
    async getOrgAndDataVersion(orgId) {
      const row = sql().selectOrgAndVersion.get(orgId);
      return row ? { org: toOrg(row), dataVersion: row.data_version } : null;
    },
    async bumpDataVersion(orgId) {
      return sql().bumpVersion.get(orgId) ?? 0;
    },

    async createKey(key, now) {
      try {
        return toKey(sql().insertKey.get(key.id, key.orgId, key.scope, key.name, key.keyHash, now)!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`API key "${key.id}" already exists`);
        throw error;
      }
    },
    async findKeyByHash(keyHash) {
      const row = sql().selectKeyByHash.get(keyHash);
      return row ? toKey(row) : null;
    },
    async listKeys(orgId) {
      return sql().selectKeys.all(orgId).map(toKey);
    },
    async revokeKey(orgId, keyId, now) {
      return sql().revokeKey.run(now, orgId, keyId).changes > 0;
    },
    async touchKey(keyId, now) {
      sql().touchKey.run(now, keyId);
    },
  };
}
