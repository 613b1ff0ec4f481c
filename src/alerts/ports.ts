/**
 * Ports of the alerts feature. Use cases depend on these narrow interfaces only; each engine
 * implements `AlertStore` in `adapters/` (one contract, exercised on both in test/alerts).
 */

import type { AlertRuleDefinition } from './domain/rule.ts';

export type AlertState = 'ok' | 'breaching';
export type AlertEventKind = 'breach' | 'recovery';

export interface StoredAlertRule {
  id: string;
  orgId: string;
  definition: AlertRuleDefinition;
  state: AlertState;
  stateSince: number;
  lastValue: number | null;
  createdAt: number;
}

export interface AlertEventRecord {
  id: number;
  orgId: string;
  ruleId: string;
  ruleName: string;
  kind: AlertEventKind;
  value: number | null;
  threshold: number;
  at: number;
  /** Channel → 'delivered' or the error of the failed send. */
  deliveries: Record<string, string>;
}

export interface AlertRuleStore {
  createRule(rule: StoredAlertRule): Promise<void>;
  listRules(orgId: string): Promise<StoredAlertRule[]>;
  /** True when a rule was removed. */
  deleteRule(orgId: string, id: string): Promise<boolean>;
}

export interface AlertTransitions {
  /**
   * Moves the rule from `from` to the other state (a conditional UPDATE … WHERE state = from).
   * Of several evaluators exactly one gets true; only that one notifies.
   */
  transition(ruleId: string, from: AlertState, value: number | null, now: number): Promise<boolean>;
  recordEvent(event: Omit<AlertEventRecord, 'id' | 'deliveries'>): Promise<number>;
  setDeliveries(eventId: number, deliveries: Record<string, string>): Promise<void>;
  listEvents(orgId: string, limit: number): Promise<AlertEventRecord[]>;
}

export interface AlertStore extends AlertRuleStore, AlertTransitions {
  close(): Promise<void>;
}

/**
 * What the alerts feature needs at run time; `AppContext.alerts`, built by src/alerts/compose.ts.
 * Notifications go out through the reports' mailer and webhook sender (`AppContext.reports`).
 */
export interface AlertsRuntime {
  store: AlertStore;
  close(): Promise<void>;
}
