import { createPool } from '../../adapters/postgres/db.ts';
import type { AlertState, AlertStore } from '../ports.ts';
import { EVENT_COLUMNS, RULE_COLUMNS, toEvent, toRule, type EventRow, type RuleRow } from './sqlite-alert-store.ts';

/**
 * The alert tables on PostgreSQL, through a small pool of their own (same URL and schema as the
 * main storage). A transition is one conditional UPDATE, so two workers never both win it.
 */
export function createPostgresAlertStore(options: { url: string; schema?: string | undefined }): AlertStore {
  const pool = createPool({ url: options.url, maxConnections: 3, ...(options.schema !== undefined ? { schema: options.schema } : {}) });
  let closing: Promise<void> | undefined;
  return {
    async createRule(rule) {
      await pool.query(`INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)`, [
        rule.id,
        rule.orgId,
        JSON.stringify(rule.definition),
        rule.state,
        rule.stateSince,
        rule.lastValue,
        rule.createdAt,
      ]);
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
    async recordEvent(event) {
      const { rows } = await pool.query<{ id: string }>(
        'INSERT INTO alert_events (org_id, rule_id, rule_name, kind, value, threshold, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
        [event.orgId, event.ruleId, event.ruleName, event.kind, event.value, event.threshold, event.at],
      );
      return Number(rows[0]!.id);
    },
    async setDeliveries(eventId, deliveries) {
      await pool.query('UPDATE alert_events SET deliveries = $1::jsonb WHERE id = $2', [JSON.stringify(deliveries), eventId]);
    },
    async listEvents(orgId, limit) {
      const { rows } = await pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, [orgId, limit]);
      return rows.map(toEvent);
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
