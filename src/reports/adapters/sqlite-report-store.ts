import { lazySideConnection } from '../../adapters/sqlite/side-connection.ts';
import type { DeliveryChannel, DeliveryRecord, DeliveryStatus, ReportSnapshot, ReportStore } from '../ports.ts';

/**
 * The report tables on the embedded engine, through a connection of its own on the same file
 * (WAL: it never blocks readers; writes wait up to the busy timeout). Migration 010 creates them.
 */

interface DeliveryRow {
  org_id: string;
  report_date: string;
  channel: DeliveryChannel;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}

export function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  return {
    orgId: row.org_id,
    date: row.report_date,
    channel: row.channel,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

const COLUMNS = 'org_id, report_date, channel, status, attempts, next_attempt_at, last_error, delivered_at, created_at, updated_at';

export function createSqliteReportStore(file: string): ReportStore {
  const connection = lazySideConnection(file);
  const open = connection.get;
  const snapshotOf = (row: { org_id: string; report_date: string; generated_at: number; json: string; html: string } | undefined): ReportSnapshot | null =>
    row === undefined ? null : { orgId: row.org_id, date: row.report_date, generatedAt: row.generated_at, json: row.json, html: row.html };
  return {
    async getSettings(orgId) {
      const row = open().prepare<[string], { recipients: string; webhook_url: string | null }>('SELECT recipients, webhook_url FROM report_settings WHERE org_id = ?').get(orgId);
      return { orgId, recipients: row ? (JSON.parse(row.recipients) as string[]) : [], webhookUrl: row?.webhook_url ?? null };
    },
    async saveSettings(settings, now) {
      open().prepare(
        `INSERT INTO report_settings (org_id, recipients, webhook_url, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (org_id) DO UPDATE SET recipients = excluded.recipients, webhook_url = excluded.webhook_url, updated_at = excluded.updated_at`,
      ).run(settings.orgId, JSON.stringify(settings.recipients), settings.webhookUrl, now);
    },
    async ensureDelivery(orgId, date, channel, now) {
      open().prepare(
        `INSERT INTO report_deliveries (org_id, report_date, channel, status, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(orgId, date, channel, now, now, now);
    },
    async claimDelivery(orgId, date, channel, holder, now, leaseMs) {
      const result = open()
        .prepare(
          `UPDATE report_deliveries SET status = 'sending', lease_holder = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
           WHERE org_id = ? AND report_date = ? AND channel = ?
             AND ((status IN ('pending', 'failed') AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?))`,
        )
        .run(holder, now + leaseMs, now, orgId, date, channel, now, now);
      return result.changes === 1;
    },
    async markDelivered(orgId, date, channel, holder, now) {
      open().prepare(
        `UPDATE report_deliveries SET status = 'delivered', delivered_at = ?, last_error = NULL, lease_holder = NULL, lease_until = NULL, updated_at = ?
         WHERE org_id = ? AND report_date = ? AND channel = ? AND lease_holder = ?`,
      ).run(now, now, orgId, date, channel, holder);
    },
    async markFailed(orgId, date, channel, holder, error, nextAttemptAt, now) {
      open().prepare(
        `UPDATE report_deliveries SET status = 'failed', last_error = ?, next_attempt_at = ?, lease_holder = NULL, lease_until = NULL, updated_at = ?
         WHERE org_id = ? AND report_date = ? AND channel = ? AND lease_holder = ?`,
      ).run(error.slice(0, 1000), nextAttemptAt, now, orgId, date, channel, holder);
    },
    async dueDeliveries(now, limit) {
      return open()
        .prepare<[number, number, number], DeliveryRow>(
          `SELECT ${COLUMNS} FROM report_deliveries
           WHERE (status IN ('pending', 'failed') AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?)
           ORDER BY next_attempt_at LIMIT ?`,
        )
        .all(now, now, limit)
        .map(toDeliveryRecord);
    },
    async listDeliveries(orgId, limit) {
      return open()
        .prepare<[string, number], DeliveryRow>(`SELECT ${COLUMNS} FROM report_deliveries WHERE org_id = ? ORDER BY report_date DESC, channel LIMIT ?`)
        .all(orgId, limit)
        .map(toDeliveryRecord);
    },
    async countByStatus() {
      const counts: Record<DeliveryStatus, number> = { pending: 0, sending: 0, delivered: 0, failed: 0 };
      for (const row of open().prepare<[], { status: DeliveryStatus; n: number }>('SELECT status, count(*) AS n FROM report_deliveries GROUP BY status').all()) {
        counts[row.status] = row.n;
      }
      return counts;
    },
    async saveSnapshot(snapshot) {
      open().prepare('INSERT INTO report_snapshots (org_id, report_date, generated_at, json, html) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
        snapshot.orgId,
        snapshot.date,
        snapshot.generatedAt,
        snapshot.json,
        snapshot.html,
      );
    },
    async getSnapshot(orgId, date) {
      return snapshotOf(open().prepare<[string, string], { org_id: string; report_date: string; generated_at: number; json: string; html: string }>('SELECT * FROM report_snapshots WHERE org_id = ? AND report_date = ?').get(orgId, date));
    },
    async latestSnapshot(orgId) {
      return snapshotOf(
        open().prepare<[string], { org_id: string; report_date: string; generated_at: number; json: string; html: string }>('SELECT * FROM report_snapshots WHERE org_id = ? ORDER BY report_date DESC LIMIT 1').get(orgId),
      );
    },
    async close() {
      connection.close();
    },
  };
}
