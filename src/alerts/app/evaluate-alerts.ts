import type { AppContext } from '../../app/context.ts';
import { collectTotals, comparableValue, statsOf } from '../../app/query/collect.ts';
import type { QueryScope } from '../../app/query/scope.ts';
import { planFor } from '../../app/query/summary.ts';
import type { Organization } from '../../domain/organization.ts';
import { noticeSubject, noticeText, type AlertNotice } from '../domain/notification.ts';
import { COMPARE_MS, isBreaching, ruleValue, WINDOW_MS, type AlertRuleDefinition } from '../domain/rule.ts';
import type { AlertEventKind, StoredAlertRule, StoredNotice } from '../ports.ts';
import { attemptNotification } from './deliver-notifications.ts';
import { ensureConfigRules } from './sync-config-rules.ts';

/**
 * Evaluates the alert rules of organizations after an aggregation pass. A rule notifies only on
 * a transition (ok → breaching, breaching → ok), and a transition is a conditional UPDATE: of
 * several evaluators racing, exactly one wins; its notifications go through the ledger
 * (deliver-notifications.ts), so a failed send is retried until delivered, once.
 */

export interface AlertTransition {
  orgId: string;
  ruleId: string;
  kind: AlertEventKind;
  value: number | null;
  deliveries: Record<string, string>;
}

/** The rule's metric over [start, end), as the query API's summary computes it (distributions by average). */
async function windowValue(ctx: AppContext, org: Organization, rule: AlertRuleDefinition, start: number, end: number): Promise<number | null> {
  const metric = ctx.metrics.find((m) => m.name === rule.metric);
  if (metric === undefined) return null; // removed from the config since the rule was made
  const scope: QueryScope = { org, zone: org.timezone, storageZone: org.timezone, start, end, endIsNow: false, startIsDefault: false };
  const dimName = rule.dimension?.name ?? '';
  const totals = await collectTotals(ctx, { orgId: org.id, metrics: [metric], dimName }, (await planFor(ctx, scope, 'auto')).pieces);
  return comparableValue(metric, statsOf(totals.get(metric.name)?.get(rule.dimension?.value ?? '')));
}

/** The number the rule compares with its threshold, for the window ending `now`. */
export async function currentRuleValue(ctx: AppContext, org: Organization, rule: AlertRuleDefinition, now: number): Promise<number | null> {
  const start = now - WINDOW_MS[rule.window];
  const current = await windowValue(ctx, org, rule, start, now);
  if (rule.condition !== 'change_pct' || rule.compare_to === undefined) return ruleValue(rule, current, null);
  const shift = COMPARE_MS[rule.compare_to];
  return ruleValue(rule, current, await windowValue(ctx, org, rule, start - shift, now - shift));
}

/** What the notification of this transition says, on every attempt (stored with the event). */
function noticeOf(rule: StoredAlertRule, notice: AlertNotice): StoredNotice {
  const text = noticeText(notice, rule.definition);
  return {
    subject: noticeSubject(notice),
    text,
    webhook: { type: 'alert', org_id: rule.orgId, rule_id: rule.id, rule: rule.definition, kind: notice.kind, value: notice.value, at: new Date(notice.at).toISOString(), text },
  };
}

async function evaluateRule(ctx: AppContext, org: Organization, rule: StoredAlertRule, now: number): Promise<AlertTransition | null> {
  const value = await currentRuleValue(ctx, org, rule.definition, now);
  const breaching = isBreaching(rule.definition, value);
  if (breaching === (rule.state === 'breaching')) return null;
  if (!(await ctx.alerts.store.transition(rule.id, rule.state, value, now))) return null; // another evaluator won
  const kind: AlertEventKind = breaching ? 'breach' : 'recovery';
  const notice: AlertNotice = { orgId: org.id, ruleName: rule.definition.name, kind, value, at: now };
  const { channels } = rule.definition;
  const eventId = await ctx.alerts.store.recordEvent(
    { orgId: org.id, ruleId: rule.id, ruleName: rule.definition.name, kind, value, threshold: rule.definition.threshold, at: now },
    noticeOf(rule, notice),
    channels,
  );
  // First attempt now; a failure stays in the ledger for the alert-notifications job.
  const deliveries: Record<string, string> = {};
  for (const channel of channels) {
    const outcome = await attemptNotification(ctx, { eventId, orgId: org.id, channel });
    deliveries[channel] = outcome === null ? 'pending' : outcome.result === 'delivered' ? 'delivered' : (outcome.error ?? 'failed');
  }
  return { orgId: org.id, ruleId: rule.id, kind, value, deliveries };
}

/** Evaluates every rule of the given organizations; a failing organization is logged and the others still run. */
export async function evaluateAlerts(ctx: AppContext, orgIds: readonly string[]): Promise<AlertTransition[]> {
  const transitions: AlertTransition[] = [];
  const now = ctx.clock.now();
  for (const orgId of new Set(orgIds)) {
    try {
      const org = await ctx.orgStore.getOrg(orgId);
      if (!org) continue;
      await ensureConfigRules(ctx, org.id);
      for (const rule of await ctx.alerts.store.listRules(org.id)) {
        const transition = await evaluateRule(ctx, org, rule, now);
        if (transition !== null) transitions.push(transition);
      }
    } catch (error) {
      ctx.log.error({ orgId, err: error }, 'alert evaluation failed for organization');
    }
  }
  return transitions;
}
