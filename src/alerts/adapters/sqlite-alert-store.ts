import { lazySideConnection } from '../../adapters/sqlite/side-connection.ts';
import type { AlertRuleDefinition } from '../domain/rule.ts';
import type { DeliveryStatus } from '../../reports/ports.ts';
import type { AlertChannel, AlertDeliveryRecord, AlertEventKind, AlertEventRecord, AlertState, AlertStore, StoredAlertRule, StoredNotice } from '../ports.ts';

/**
 * The alert tables on the embedded engine, through a connection of its own on the same file
 * (WAL; writes wait up to the busy timeout). Migration 011 creates them.
 */

export interface RuleRow {
  id: string;
  org_id: string;
  definition: string | AlertRuleDefinition;
  state: AlertState;
  state_since: number | string;
  last_value: number | null;
  created_at: number | string;
  config_key: string | null;
}

export interface DeliveryRow {
  event_id: number | string;
  org_id: string;
  channel: AlertChannel;
  status: DeliveryStatus;
  attempts: number | string;
  next_attempt_at: number | string;
  last_error: string | null;
  delivered_at: number | string | null;
}

export interface EventRow {
  id: number | string;
  org_id: string;
  rule_id: string;
  rule_name: string;
  kind: AlertEventKind;
  value: number | null;
  threshold: number;
  at: number | string;
  deliveries: string | Record<string, string>;
}

export const toRule = (row: RuleRow): StoredAlertRule => ({
  id: row.id,
  orgId: row.org_id,
  definition: typeof row.definition === 'string' ? (JSON.parse(row.definition) as AlertRuleDefinition) : row.definition,
  state: row.state,
  stateSince: Number(row.state_since),
  lastValue: row.last_value === null ? null : Number(row.last_value),
  createdAt: Number(row.created_at),
  configKey: row.config_key,
});

export const toDelivery = (row: DeliveryRow): AlertDeliveryRecord => ({
  eventId: Number(row.event_id),
  orgId: row.org_id,
  channel: row.channel,
  status: row.status,
  attempts: Number(row.attempts),
  nextAttemptAt: Number(row.next_attempt_at),
  lastError: row.last_error,
  deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
});

/** The history's one-word view of a channel: delivered, pending, or the last error (a retry follows). */
export const deliverySummary = (ledger: readonly AlertDeliveryRecord[]): Record<string, string> =>
  Object.fromEntries(ledger.map((d) => [d.channel, d.status === 'delivered' ? 'delivered' : (d.lastError ?? 'pending')]));

/** Events with their ledger rows; events recorded before migration 012 keep their stored summary. */
export function withLedger(rows: EventRow[], deliveries: AlertDeliveryRecord[]): AlertEventRecord[] {
  return rows.map((row) => {
    const event = toEvent(row);
    const ledger = deliveries.filter((d) => d.eventId === event.id).sort((a, b) => a.channel.localeCompare(b.channel));
    return ledger.length === 0 ? event : { ...event, deliveries: deliverySummary(ledger), ledger };
  });
}

export const toEvent = (row: EventRow): AlertEventRecord => ({
  id: Number(row.id),
  orgId: row.org_id,
  ruleId: row.rule_id,
  ruleName: row.rule_name,
  kind: row.kind,
  value: row.value === null ? null : Number(row.value),
  threshold: Number(row.threshold),
  at: Number(row.at),
  deliveries: typeof row.deliveries === 'string' ? (JSON.parse(row.deliveries) as Record<string, string>) : row.deliveries,
  ledger: [],
});

export const RULE_COLUMNS = 'id, org_id, definition, state, state_since, last_value, created_at, config_key';
export const DELIVERY_COLUMNS = 'event_id, org_id, channel, status, attempts, next_attempt_at, last_error, delivered_at';
/** Claimable: pending or failed and due, or sending under an expired lease (the report ledger's rule). */
export const CLAIMABLE = "((status IN ('pending', 'failed') AND next_attempt_at <= $now) OR (status = 'sending' AND lease_until < $now))";
const sqliteClaimable = CLAIMABLE.replaceAll('$now', '@now');
export const EVENT_COLUMNS = 'id, org_id, rule_id, rule_name, kind, value, threshold, at, deliveries';

export function createSqliteAlertStore(file: string): AlertStore {
  const connection = lazySideConnection(file);
  const open = connection.get;
  const countByStatus = async () => {
    const counts: Record<DeliveryStatus, number> = { pending: 0, sending: 0, delivered: 0, failed: 0 };
    for (const row of open().prepare<[], { status: DeliveryStatus; n: number }>('SELECT status, count(*) AS n FROM alert_deliveries GROUP BY status').all()) counts[row.status] = row.n;
    return counts;
  };
  return {
    async createRule(rule) {
      open()
        .prepare(`INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(rule.id, rule.orgId, JSON.stringify(rule.definition), rule.state, rule.stateSince, rule.lastValue, rule.createdAt, rule.configKey);
    },
    async syncConfigRules(orgId, rules, now, newId) {
      const db = open();
      const upsert = db.prepare(
        `INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES (?, ?, ?, 'ok', ?, NULL, ?, ?)
         ON CONFLICT (org_id, config_key) DO UPDATE SET definition = excluded.definition WHERE alert_rules.definition <> excluded.definition`,
      );
      const existing = db.prepare<[string], { config_key: string }>('SELECT config_key FROM alert_rules WHERE org_id = ? AND config_key IS NOT NULL');
      const remove = db.prepare('DELETE FROM alert_rules WHERE org_id = ? AND config_key = ?');
      db.transaction(() => {
        for (const rule of rules) upsert.run(newId(), orgId, JSON.stringify(rule), now, now, rule.name);
        const wanted = new Set(rules.map((r) => r.name));
        for (const { config_key } of existing.all(orgId)) if (!wanted.has(config_key)) remove.run(orgId, config_key);
      }).immediate();
    },
    async listRules(orgId) {
      return open().prepare<[string], RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE org_id = ? ORDER BY created_at, id`).all(orgId).map(toRule);
    },
    async deleteRule(orgId, id) {
      return open().prepare('DELETE FROM alert_rules WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
    },
    async transition(ruleId, from, value, now) {
      const to: AlertState = from === 'ok' ? 'breaching' : 'ok';
      const result = open().prepare('UPDATE alert_rules SET state = ?, state_since = ?, last_value = ? WHERE id = ? AND state = ?').run(to, now, value, ruleId, from);
      return result.changes === 1;
    },
    async recordEvent(event, notice, channels) {
      const db = open();
      return db.transaction(() => {
        const result = db
          .prepare('INSERT INTO alert_events (org_id, rule_id, rule_name, kind, value, threshold, at, notice) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(event.orgId, event.ruleId, event.ruleName, event.kind, event.value, event.threshold, event.at, JSON.stringify(notice));
        const id = Number(result.lastInsertRowid);
        const ledger = db.prepare(
          "INSERT INTO alert_deliveries (event_id, org_id, channel, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
        );
        for (const channel of channels) ledger.run(id, event.orgId, channel, event.at, event.at, event.at);
        return id;
      }).immediate();
    },
    async listEvents(orgId, limit) {
      const db = open();
      const rows = db.prepare<[string, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE org_id = ? ORDER BY id DESC LIMIT ?`).all(orgId, limit);
      if (rows.length === 0) return [];
      const minId = Math.min(...rows.map((r) => Number(r.id)));
      const deliveries = db.prepare<[string, number], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE org_id = ? AND event_id >= ?`).all(orgId, minId).map(toDelivery);
      return withLedger(rows, deliveries);
    },
    async claimDelivery(eventId, channel, holder, now, leaseMs) {
      const row = open()
        .prepare<{ holder: string; until: number; now: number; eventId: number; channel: string }, { attempts: number }>(
          `UPDATE alert_deliveries SET status = 'sending', lease_holder = @holder, lease_until = @until, attempts = attempts + 1, updated_at = @now
           WHERE event_id = @eventId AND channel = @channel AND ${sqliteClaimable} RETURNING attempts`,
        )
        .get({ holder, until: now + leaseMs, now, eventId, channel });
      return row === undefined ? null : Number(row.attempts);
    },
    async markDelivered(eventId, channel, holder, now) {
      open()
        .prepare(
          `UPDATE alert_deliveries SET status = 'delivered', delivered_at = ?, last_error = NULL, lease_holder = NULL, lease_until = NULL, updated_at = ?
           WHERE event_id = ? AND channel = ? AND lease_holder = ?`,
        )
        .run(now, now, eventId, channel, holder);
    },
    async markFailed(eventId, channel, holder, error, nextAttemptAt, now) {
      open()
        .prepare(
          `UPDATE alert_deliveries SET status = 'failed', last_error = ?, next_attempt_at = ?, lease_holder = NULL, lease_until = NULL, updated_at = ?
           WHERE event_id = ? AND channel = ? AND lease_holder = ?`,
        )
        .run(error.slice(0, 1000), nextAttemptAt, now, eventId, channel, holder);
    },
    async dueDeliveries(now, limit) {
      return open()
        .prepare<{ now: number; limit: number }, DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE ${sqliteClaimable} ORDER BY next_attempt_at, event_id LIMIT @limit`)
        .all({ now, limit })
        .map(toDelivery);
    },
    async getNotice(eventId) {
      const row = open().prepare<[number], { notice: string | null }>('SELECT notice FROM alert_events WHERE id = ?').get(eventId);
      return row?.notice ? (JSON.parse(row.notice) as StoredNotice) : null;
    },
    countByStatus,
    async close() {
      connection.close();
    },
  };
}
