import type { AlertRuleDefinition } from './rule.ts';

/** The words of an alert notification (e-mail subject and text, webhook `text`). Pure. */

export interface AlertNotice {
  orgId: string;
  ruleName: string;
  kind: 'breach' | 'recovery';
  value: number | null;
  at: number;
}

const conditionWords = (rule: AlertRuleDefinition): string => {
  const scope = rule.dimension ? ` (${rule.dimension.name}=${rule.dimension.value})` : '';
  if (rule.condition === 'change_pct') return `${rule.metric}${scope} change over ${rule.window} vs ${rule.compare_to ?? '?'} earlier ${rule.threshold >= 0 ? '≥' : '≤'} ${rule.threshold}%`;
  return `${rule.metric}${scope} over ${rule.window} ${rule.condition === 'above' ? '>' : '<'} ${rule.threshold}`;
};

const formatValue = (rule: AlertRuleDefinition, value: number | null): string =>
  value === null ? 'no data' : `${Number(value.toFixed(4))}${rule.condition === 'change_pct' ? '%' : ''}`;

export function noticeSubject(notice: AlertNotice): string {
  return `[meterboard] ${notice.kind === 'breach' ? 'ALERT' : 'RESOLVED'} ${notice.orgId}: ${notice.ruleName}`;
}

export function noticeText(notice: AlertNotice, rule: AlertRuleDefinition): string {
  const state = notice.kind === 'breach' ? 'is breaching' : 'has recovered';
  return `Alert "${notice.ruleName}" of organization ${notice.orgId} ${state} at ${new Date(notice.at).toISOString()}.\nRule: ${conditionWords(rule)}\nValue: ${formatValue(rule, notice.value)}`;
}
