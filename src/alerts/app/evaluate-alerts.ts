import type { AppContext } from '../../app/context.ts';
import { collectTotals, comparableValue, statsOf } from '../../app/query/collect.ts';
import type { QueryScope } from '../../app/query/scope.ts';
import { planFor } from '../../app/query/summary.ts';
import type { Organization } from '../../domain/organization.ts';
import { noticeSubject, noticeText, type AlertNotice } from '../domain/notification.ts';
import { COMPARE_MS, isBreaching, ruleValue, WINDOW_MS, type AlertRuleDefinition } from '../domain/rule.ts';
import type { AlertEventKind, StoredAlertRule } from '../ports.ts';

/**
 * Evaluates the alert rules of organizations after an aggregation pass. A rule notifies only on
 * a transition (ok → breaching, breaching → ok), and a transition is a conditional UPDATE: of
 * several evaluators racing, exactly one wins and sends. A failed send is kept on the history row.
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
  const totals = await collectTotals(ctx, { orgId: org.id, metrics: [metric], dimName }, planFor(ctx, scope, 'auto').pieces);
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

async function notify(ctx: AppContext, rule: StoredAlertRule, notice: AlertNotice, eventId: number): Promise<Record<string, string>> {
  const deliveries: Record<string, string> = {};
  const settings = await ctx.reports.store.getSettings(rule.orgId);
  const text = noticeText(notice, rule.definition);
  for (const channel of rule.definition.channels) {
    try {
      if (channel === 'email') {
        if (settings.recipients.length === 0) throw new Error(`no e-mail recipients for organization "${rule.orgId}" (PUT …/reports/settings)`);
        if (ctx.reports.mailer === null) throw new Error('SMTP_URL is not set: cannot send e-mail');
        await ctx.reports.mailer.send({
          from: ctx.config.reportFrom,
          to: settings.recipients,
          subject: noticeSubject(notice),
          html: `<pre>${text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`,
          text,
          messageId: `<alert-${rule.orgId}-${eventId}@meterboard>`,
          attachments: [],
        });
      } else {
        if (settings.webhookUrl === null) throw new Error(`no webhook URL for organization "${rule.orgId}" (PUT …/reports/settings)`);
        await ctx.reports.webhook.post(settings.webhookUrl, {
          type: 'alert',
          org_id: rule.orgId,
          rule_id: rule.id,
          rule: rule.definition,
          kind: notice.kind,
          value: notice.value,
          at: new Date(notice.at).toISOString(),
          text,
        });
      }
      deliveries[channel] = 'delivered';
    } catch (error) {
      deliveries[channel] = error instanceof Error ? error.message : String(error);
      ctx.log.warn({ orgId: rule.orgId, ruleId: rule.id, channel, err: error }, 'alert notification failed; recorded on the alert history');
    }
  }
  return deliveries;
}

async function evaluateRule(ctx: AppContext, org: Organization, rule: StoredAlertRule, now: number): Promise<AlertTransition | null> {
  const value = await currentRuleValue(ctx, org, rule.definition, now);
  const breaching = isBreaching(rule.definition, value);
  if (breaching === (rule.state === 'breaching')) return null;
  if (!(await ctx.alerts.store.transition(rule.id, rule.state, value, now))) return null; // another evaluator won
  const kind: AlertEventKind = breaching ? 'breach' : 'recovery';
  const notice: AlertNotice = { orgId: org.id, ruleName: rule.definition.name, kind, value, at: now };
  const eventId = await ctx.alerts.store.recordEvent({ orgId: org.id, ruleId: rule.id, ruleName: rule.definition.name, kind, value, threshold: rule.definition.threshold, at: now });
  const deliveries = await notify(ctx, rule, notice, eventId);
  await ctx.alerts.store.setDeliveries(eventId, deliveries);
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
