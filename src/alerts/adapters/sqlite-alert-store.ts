import Database from 'better-sqlite3';
import type { AlertRuleDefinition } from '../domain/rule.ts';
import type { AlertEventKind, AlertEventRecord, AlertState, AlertStore, StoredAlertRule } from '../ports.ts';

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
});

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
});

export const RULE_COLUMNS = 'id, org_id, definition, state, state_since, last_value, created_at';
export const EVENT_COLUMNS = 'id, org_id, rule_id, rule_name, kind, value, threshold, at, deliveries';

export function createSqliteAlertStore(file: string): AlertStore {
  // Opened on first use: most processes never touch the alert tables.
  let connection: Database.Database | undefined;
  const open = (): Database.Database => {
    if (connection === undefined) {
      connection = new Database(file, { timeout: 15_000 });
      connection.pragma('journal_mode = WAL');
      connection.pragma('synchronous = FULL');
    }
    return connection;
  };
  return {
    async createRule(rule) {
      open()
        .prepare(`INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(rule.id, rule.orgId, JSON.stringify(rule.definition), rule.state, rule.stateSince, rule.lastValue, rule.createdAt);
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
    async recordEvent(event) {
      const result = open()
        .prepare('INSERT INTO alert_events (org_id, rule_id, rule_name, kind, value, threshold, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(event.orgId, event.ruleId, event.ruleName, event.kind, event.value, event.threshold, event.at);
      return Number(result.lastInsertRowid);
    },
    async setDeliveries(eventId, deliveries) {
      open().prepare('UPDATE alert_events SET deliveries = ? WHERE id = ?').run(JSON.stringify(deliveries), eventId);
    },
    async listEvents(orgId, limit) {
      return open().prepare<[string, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE org_id = ? ORDER BY id DESC LIMIT ?`).all(orgId, limit).map(toEvent);
    },
    async close() {
      connection?.close();
      connection = undefined;
    },
  };
}
