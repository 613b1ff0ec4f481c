import type { Pool } from 'pg';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import { KEY_COLUMNS, ORG_COLUMNS, toKey, toOrg, type KeyRow, type OrgRow } from '../org-rows.ts';
import type { DataVersions, KeyStore, OrgStore } from '../../ports/storage.ts';
import { sqlState } from './db.ts';
import type { OrgWithVersion, RememberedOrgs } from './remembered-orgs.ts';

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';


/** With `remembered`, the data version reads answer from rows kept between changes (ADR 0022). */
export function createOrgStore(pool: Pool, remembered?: RememberedOrgs): OrgStore & DataVersions {
  const loadWithVersion = async (orgId: string): Promise<OrgWithVersion | null> => {
    const result = await pool.query<OrgRow & { data_version: number }>(`SELECT ${ORG_COLUMNS}, data_version FROM orgs WHERE id = $1`, [orgId]);
    const row = result.rows[0];
    // bigint arrives as text from node-postgres; the key is the same text either way.
    return row === undefined ? null : { org: toOrg(row), dataVersion: Number(row.data_version) };
  };
  const withVersion = (orgId: string) => (remembered === undefined ? loadWithVersion(orgId) : remembered.read(orgId, () => loadWithVersion(orgId)));
  return {
    async createOrg(org, now) {
      const result = await pool.query<OrgRow>(
        `INSERT INTO orgs (id, name, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (id) DO NOTHING RETURNING ${ORG_COLUMNS}`,
        [org.id, org.name, org.timezone, now],
      );
      const row = result.rows[0];
      if (row === undefined) throw new ConflictError(`organization "${org.id}" already exists`);
      return toOrg(row);
    },

    async getOrg(id) {
      const result = await pool.query<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs WHERE id = $1`, [id]);
      const row = result.rows[0];
      return row === undefined ? null : toOrg(row);
    },

    async listOrgs() {
      const result = await pool.query<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs ORDER BY id`);
      return result.rows.map(toOrg);
    },

    async updateOrg(id, patch, now) {
      const result = await pool.query<OrgRow>(
        `UPDATE orgs SET name = COALESCE($2, name), timezone = COALESCE($3, timezone), updated_at = $4
         WHERE id = $1 RETURNING ${ORG_COLUMNS}`,
        [id, patch.name ?? null, patch.timezone ?? null, now],
      );
      remembered?.forget(id);
      const row = result.rows[0];
      return row === undefined ? null : toOrg(row);
    },

    async getDataVersion(orgId) {
      return (await withVersion(orgId))?.dataVersion ?? 0;
    },

    getOrgAndDataVersion: withVersion,

    async bumpDataVersion(orgId) {
      const result = await pool.query<{ data_version: number }>(
        'UPDATE orgs SET data_version = data_version + 1 WHERE id = $1 RETURNING data_version',
        [orgId],
      );
      remembered?.forget(orgId);
      return result.rows[0]?.data_version ?? 0;
    },
  };
}

export function createKeyStore(pool: Pool): KeyStore {
  return {
    async createKey(key, now) {
      try {
        const result = await pool.query<KeyRow>(
          `INSERT INTO api_keys (id, org_id, scope, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING ${KEY_COLUMNS}`,
          [key.id, key.orgId, key.scope, key.name, key.keyHash, now],
        );
        return toKey(result.rows[0] as KeyRow);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) throw new ConflictError(`API key "${key.id}" already exists`);
        if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError(`organization "${key.orgId}" not found`);
        throw error;
      }
    },

    async findKeyByHash(keyHash) {
      const result = await pool.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
        [keyHash],
      );
      const row = result.rows[0];
      return row === undefined ? null : toKey(row);
    },

    async listKeys(orgId) {
      const result = await pool.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at, id`,
        [orgId],
      );
      return result.rows.map(toKey);
    },

    async revokeKey(orgId, keyId, now) {
      const result = await pool.query(
        'UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL',
        [orgId, keyId, now],
      );
      return (result.rowCount ?? 0) > 0;
    },

    async touchKey(keyId, now) {
      await pool.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [keyId, now]);
    },
  };
}
