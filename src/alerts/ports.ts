/**
 * Ports of the alerts feature. Use cases depend on these narrow interfaces only; each engine
 * implements `AlertStore` in `adapters/` (one contract, exercised on both in test/alerts).
 */

import type { DeliveryStatus } from '../reports/ports.ts';
import type { AlertRuleDefinition } from './domain/rule.ts';

export type AlertState = 'ok' | 'breaching';
export type AlertEventKind = 'breach' | 'recovery';
export type AlertChannel = 'email' | 'webhook';

export interface StoredAlertRule {
  id: string;
  orgId: string;
  definition: AlertRuleDefinition;
  state: AlertState;
  stateSince: number;
  lastValue: number | null;
  createdAt: number;
  /** The rule's name when the config file manages it (the API then refuses to change it); null: made through the API. */
  configKey: string | null;
}

/** What every attempt of a notification sends, fixed when the transition happened. */
export interface StoredNotice {
  subject: string;
  text: string;
  webhook: Record<string, unknown>;
}

/** One (alert event, channel) row of the notification ledger; statuses as in the report ledger. */
export interface AlertDeliveryRecord {
  eventId: number;
  orgId: string;
  channel: AlertChannel;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
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
  /** Channel → 'delivered', 'pending', or the error of the last failed attempt (retried). */
  deliveries: Record<string, string>;
  /** The ledger rows of this event's notifications (attempts, next attempt …). */
  ledger: AlertDeliveryRecord[];
}

export interface AlertRuleStore {
  createRule(rule: StoredAlertRule): Promise<void>;
  /**
   * Makes the organization's config-managed rules exactly `rules` (keyed by name): inserts new
   * ones, replaces changed definitions (state kept), deletes those no longer in the file. API
   * rules are untouched. Safe to run from several processes at once (unique (org, config_key)).
   */
  syncConfigRules(orgId: string, rules: readonly AlertRuleDefinition[], now: number, newId: () => string): Promise<void>;
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
  /** Records the transition with its notice and one pending ledger row per channel, atomically. */
  recordEvent(event: Omit<AlertEventRecord, 'id' | 'deliveries' | 'ledger'>, notice: StoredNotice, channels: readonly AlertChannel[]): Promise<number>;
  listEvents(orgId: string, limit: number): Promise<AlertEventRecord[]>;
}

/** The notification ledger: the report ledger's claim/lease/backoff protocol, keyed by (event, channel). */
export interface AlertNotificationLedger {
  /**
   * Takes the row for one attempt when it is pending or failed and due, or `sending` under an
   * expired lease (a worker died mid-send). Atomic: of several workers exactly one gets the
   * attempt number (attempts so far, this one included); the others get null.
   */
  claimDelivery(eventId: number, channel: AlertChannel, holder: string, now: number, leaseMs: number): Promise<number | null>;
  markDelivered(eventId: number, channel: AlertChannel, holder: string, now: number): Promise<void>;
  markFailed(eventId: number, channel: AlertChannel, holder: string, error: string, nextAttemptAt: number, now: number): Promise<void>;
  /** Rows not yet delivered whose next attempt is due, oldest first. */
  dueDeliveries(now: number, limit: number): Promise<AlertDeliveryRecord[]>;
  getNotice(eventId: number): Promise<StoredNotice | null>;
  /** Count per status, for `/metrics` (failed = waiting for a retry). */
  countByStatus(): Promise<Record<DeliveryStatus, number>>;
}

export interface AlertStore extends AlertRuleStore, AlertTransitions, AlertNotificationLedger {
  close(): Promise<void>;
}

/**
 * What the alerts feature needs at run time; `AppContext.alerts`, built by src/alerts/compose.ts.
 * Notifications go out through the reports' mailer and webhook sender (`AppContext.reports`).
 */
export interface AlertsRuntime {
  store: AlertStore;
  /** The config file's rules per organization id, validated at start (src/alerts/config-rules.ts). */
  configRules: ReadonlyMap<string, readonly AlertRuleDefinition[]>;
  /** Organizations whose config rules this process has already upserted. */
  syncedOrgs: Set<string>;
  close(): Promise<void>;
}
