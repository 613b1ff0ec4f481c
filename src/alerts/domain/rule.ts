import { z } from 'zod';

/** An alert rule as a user writes it (API body), and the pure decision of whether it breaches. */

export const WINDOW_MS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export const COMPARE_MS = { '1d': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;

export const alertRuleSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    metric: z.string().min(1).max(200),
    dimension: z.object({ name: z.string().min(1).max(200), value: z.string().max(500) }).strict().optional(),
    condition: z.enum(['above', 'below', 'change_pct']),
    threshold: z.number().finite(),
    window: z.enum(['1h', '24h', '7d']),
    compare_to: z.enum(['1d', '7d', '30d']).optional(),
    channels: z.array(z.enum(['email', 'webhook'])).min(1).max(2),
  })
  .strict()
  .superRefine((rule, issues) => {
    if (rule.condition === 'change_pct' && rule.compare_to === undefined)
      issues.addIssue({ code: 'custom', path: ['compare_to'], message: 'compare_to is required when condition is change_pct' });
    if (rule.condition !== 'change_pct' && rule.compare_to !== undefined)
      issues.addIssue({ code: 'custom', path: ['compare_to'], message: 'compare_to only applies to condition change_pct' });
    if (new Set(rule.channels).size !== rule.channels.length) issues.addIssue({ code: 'custom', path: ['channels'], message: 'a channel is listed twice' });
  });

export type AlertRuleDefinition = z.output<typeof alertRuleSchema>;

/**
 * The number a rule watches: the window's value for above/below; for change_pct the change in
 * percent against the same window shifted back by compare_to (null without a previous value).
 */
export function ruleValue(rule: Pick<AlertRuleDefinition, 'condition'>, current: number | null, previous: number | null): number | null {
  if (rule.condition !== 'change_pct') return current;
  if (current === null || previous === null || previous === 0) return null;
  return ((current - previous) / Math.abs(previous)) * 100;
}

/**
 * Whether the value breaches. change_pct breaches when the change is at least |threshold| in the
 * threshold's direction (a negative threshold watches falls). No value: not breaching.
 */
export function isBreaching(rule: Pick<AlertRuleDefinition, 'condition' | 'threshold'>, value: number | null): boolean {
  if (value === null) return false;
  if (rule.condition === 'above') return value > rule.threshold;
  if (rule.condition === 'below') return value < rule.threshold;
  return rule.threshold >= 0 ? value >= rule.threshold : value <= rule.threshold;
}
