import { createPool } from '../../adapters/postgres/db.ts';
import type { DeliveryRecord, DeliveryStatus, ReportSnapshot, ReportStore } from '../ports.ts';
import { toDeliveryRecord } from './sqlite-report-store.ts';

/**
 * The report tables on PostgreSQL, through a small pool of their own (same URL and schema as
 * the main storage). Claims are single conditional UPDATEs, so two workers never both win.
 */

const COLUMNS = 'org_id, report_date, channel, status, attempts, next_attempt_at, last_error, delivered_at, created_at, updated_at';

interface SnapshotRow {
  org_id: string;
  report_date: string;
  generated_at: number;
  json: string;
  html: string;
}

const snapshotOf = (row: SnapshotRow | undefined): ReportSnapshot | null =>
  row === undefined ? null : { orgId: row.org_id, date: row.report_date, generatedAt: Number(row.generated_at), json: row.json, html: row.html };

export function createPostgresReportStore(options: { url: string; schema?: string | undefined }): ReportStore {
  const pool = createPool({ url: options.url, maxConnections: 3, ...(options.schema !== undefined ? { schema: options.schema } : {}) });
  let closing: Promise<void> | undefined;
  return {
    async getSettings(orgId) {
      const { rows } = await pool.query<{ recipients: string[]; webhook_url: string | null }>('SELECT recipients, webhook_url FROM report_settings WHERE org_id = $1', [orgId]);
      return { orgId, recipients: rows[0]?.recipients ?? [], webhookUrl: rows[0]?.webhook_url ?? null };
    },
    async saveSettings(settings, now) {
      await pool.query(
        `INSERT INTO report_settings (org_id, recipients, webhook_url, updated_at) VALUES ($1, $2::jsonb, $3, $4)
         ON CONFLICT (org_id) DO UPDATE SET recipients = excluded.recipients, webhook_url = excluded.webhook_url, updated_at = excluded.updated_at`,
        [settings.orgId, JSON.stringify(settings.recipients), settings.webhookUrl, now],
      );
    },
    async ensureDelivery(orgId, date, channel, now) {
      await pool.query(
        `INSERT INTO report_deliveries (org_id, report_date, channel, status, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'pending', $4, $4, $4) ON CONFLICT DO NOTHING`,
        [orgId, date, channel, now],
      );
    },
    async claimDelivery(orgId, date, channel, holder, now, leaseMs) {
      const result = await pool.query(
        `UPDATE report_deliveries SET status = 'sending', lease_holder = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
         WHERE org_id = $4 AND report_date = $5 AND channel = $6
           AND ((status IN ('pending', 'failed') AND next_attempt_at <= $3) OR (status = 'sending' AND lease_until < $3))`,
        [holder, now + leaseMs, now, orgId, date, channel],
      );
      return result.rowCount === 1;
    },
    async markDelivered(orgId, date, channel, holder, now) {
      await pool.query(
        `UPDATE report_deliveries SET status = 'delivered', delivered_at = $1, last_error = NULL, lease_holder = NULL, lease_until = NULL, updated_at = $1
         WHERE org_id = $2 AND report_date = $3 AND channel = $4 AND lease_holder = $5`,
        [now, orgId, date, channel, holder],
      );
    },
    async markFailed(orgId, date, channel, holder, error, nextAttemptAt, now) {
      await pool.query(
        `UPDATE report_deliveries SET status = 'failed', last_error = $1, next_attempt_at = $2, lease_holder = NULL, lease_until = NULL, updated_at = $3
         WHERE org_id = $4 AND report_date = $5 AND channel = $6 AND lease_holder = $7`,
        [error.slice(0, 1000), nextAttemptAt, now, orgId, date, channel, holder],
      );
    },
    async dueDeliveries(now, limit) {
      const { rows } = await pool.query(
        `SELECT ${COLUMNS} FROM report_deliveries
         WHERE (status IN ('pending', 'failed') AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1)
         ORDER BY next_attempt_at LIMIT $2`,
        [now, limit],
      );
      return rows.map(toDeliveryRecord);
    },
    async listDeliveries(orgId, limit): Promise<DeliveryRecord[]> {
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM report_deliveries WHERE org_id = $1 ORDER BY report_date DESC, channel LIMIT $2`, [orgId, limit]);
      return rows.map(toDeliveryRecord);
    },
    async countByStatus() {
      const counts: Record<DeliveryStatus, number> = { pending: 0, sending: 0, delivered: 0, failed: 0 };
      const { rows } = await pool.query<{ status: DeliveryStatus; n: number }>('SELECT status, count(*)::int AS n FROM report_deliveries GROUP BY status');
      for (const row of rows) counts[row.status] = row.n;
      return counts;
    },
    async saveSnapshot(snapshot) {
      await pool.query('INSERT INTO report_snapshots (org_id, report_date, generated_at, json, html) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        snapshot.orgId,
        snapshot.date,
        snapshot.generatedAt,
        snapshot.json,
        snapshot.html,
      ]);
    },
    async getSnapshot(orgId, date) {
      const { rows } = await pool.query<SnapshotRow>('SELECT * FROM report_snapshots WHERE org_id = $1 AND report_date = $2', [orgId, date]);
      return snapshotOf(rows[0]);
    },
    async latestSnapshot(orgId) {
      const { rows } = await pool.query<SnapshotRow>('SELECT * FROM report_snapshots WHERE org_id = $1 ORDER BY report_date DESC LIMIT 1', [orgId]);
      return snapshotOf(rows[0]);
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
