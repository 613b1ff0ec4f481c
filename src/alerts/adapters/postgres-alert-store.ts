import { createPool } from '../../adapters/postgres/db.ts';
import type { DeliveryStatus } from '../../reports/ports.ts';
import type { AlertState, AlertStore, StoredNotice } from '../ports.ts';
import { CLAIMABLE, DELIVERY_COLUMNS, EVENT_COLUMNS, RULE_COLUMNS, toDelivery, toRule, withLedger, type DeliveryRow, type EventRow, type RuleRow } from './sqlite-alert-store.ts';

/**
 * The alert tables on PostgreSQL, through a small pool of their own (same URL and schema as the
 * main storage). A transition and a ledger claim are each one conditional UPDATE, so two
 * workers never both win them.
 */
export function createPostgresAlertStore(options: { url: string; schema?: string | undefined }): AlertStore {
  const pool = createPool({ url: options.url, maxConnections: 3, ...(options.schema !== undefined ? { schema: options.schema } : {}) });
  const claimable = CLAIMABLE.replaceAll('$now', '$1');
  let closing: Promise<void> | undefined;
  return {
    async createRule(rule) {
      await pool.query(`INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)`, [
        rule.id,
        rule.orgId,
        JSON.stringify(rule.definition),
        rule.state,
        rule.stateSince,
        rule.lastValue,
        rule.createdAt,
        rule.configKey,
      ]);
    },
    async syncConfigRules(orgId, rules, now, newId) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const rule of rules) {
          await client.query(
            `INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3::jsonb, 'ok', $4, NULL, $4, $5)
             ON CONFLICT (org_id, config_key) DO UPDATE SET definition = excluded.definition WHERE alert_rules.definition <> excluded.definition`,
            [newId(), orgId, JSON.stringify(rule), now, rule.name],
          );
        }
        await client.query('DELETE FROM alert_rules WHERE org_id = $1 AND config_key IS NOT NULL AND NOT (config_key = ANY($2::text[]))', [orgId, rules.map((r) => r.name)]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async listRules(orgId) {
      const { rows } = await pool.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
      return rows.map(toRule);
    },
    async deleteRule(orgId, id) {
      const result = await pool.query('DELETE FROM alert_rules WHERE org_id = $1 AND id = $2', [orgId, id]);
      return result.rowCount === 1;
    },
    async transition(ruleId, from, value, now) {
      const to: AlertState = from === 'ok' ? 'breaching' : 'ok';
      const result = await pool.query('UPDATE alert_rules SET state = $1, state_since = $2, last_value = $3 WHERE id = $4 AND state = $5', [to, now, value, ruleId, from]);
      return result.rowCount === 1;
    },
    async recordEvent(event, notice, channels) {
      // One statement: the event and its pending ledger rows commit together.
      const { rows } = await pool.query<{ id: string }>(
        `WITH e AS (
           INSERT INTO alert_events (org_id, rule_id, rule_name, kind, value, threshold, at, notice) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING id
         ), d AS (
           INSERT INTO alert_deliveries (event_id, org_id, channel, status, next_attempt_at, created_at, updated_at)
           SELECT e.id, $1, u.channel, 'pending', $7, $7, $7 FROM e, unnest($9::text[]) AS u(channel)
         )
         SELECT id FROM e`,
        [event.orgId, event.ruleId, event.ruleName, event.kind, event.value, event.threshold, event.at, JSON.stringify(notice), [...channels]],
      );
      return Number(rows[0]!.id);
    },
    async listEvents(orgId, limit) {
      const { rows } = await pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, [orgId, limit]);
      if (rows.length === 0) return [];
      const minId = Math.min(...rows.map((r) => Number(r.id)));
      const deliveries = await pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE org_id = $1 AND event_id >= $2`, [orgId, minId]);
      return withLedger(rows, deliveries.rows.map(toDelivery));
    },
    async claimDelivery(eventId, channel, holder, now, leaseMs) {
      const { rows } = await pool.query<{ attempts: number }>(
        `UPDATE alert_deliveries SET status = 'sending', lease_holder = $2, lease_until = $3, attempts = attempts + 1, updated_at = $1
         WHERE event_id = $4 AND channel = $5 AND ${claimable} RETURNING attempts`,
        [now, holder, now + leaseMs, eventId, channel],
      );
      return rows.length === 0 ? null : Number(rows[0]!.attempts);
    },
    async markDelivered(eventId, channel, holder, now) {
      await pool.query(
        `UPDATE alert_deliveries SET status = 'delivered', delivered_at = $1, last_error = NULL, lease_holder = NULL, lease_until = NULL, updated_at = $1
         WHERE event_id = $2 AND channel = $3 AND lease_holder = $4`,
        [now, eventId, channel, holder],
      );
    },
    async markFailed(eventId, channel, holder, error, nextAttemptAt, now) {
      await pool.query(
        `UPDATE alert_deliveries SET status = 'failed', last_error = $1, next_attempt_at = $2, lease_holder = NULL, lease_until = NULL, updated_at = $3
         WHERE event_id = $4 AND channel = $5 AND lease_holder = $6`,
        [error.slice(0, 1000), nextAttemptAt, now, eventId, channel, holder],
      );
    },
    async dueDeliveries(now, limit) {
      const { rows } = await pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE ${claimable} ORDER BY next_attempt_at, event_id LIMIT $2`, [now, limit]);
      return rows.map(toDelivery);
    },
    async getNotice(eventId) {
      const { rows } = await pool.query<{ notice: StoredNotice | null }>('SELECT notice FROM alert_events WHERE id = $1', [eventId]);
      return rows[0]?.notice ?? null;
    },
    async countByStatus() {
      const counts: Record<DeliveryStatus, number> = { pending: 0, sending: 0, delivered: 0, failed: 0 };
      const { rows } = await pool.query<{ status: DeliveryStatus; n: string }>('SELECT status, count(*) AS n FROM alert_deliveries GROUP BY status');
      for (const row of rows) counts[row.status] = Number(row.n);
      return counts;
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
