import { ValidationError } from '../../domain/errors.ts';
import type { MetricDefinition } from '../../domain/metrics/definition.ts';
import { isValidOrgId } from '../../domain/organization.ts';
import { alertRuleSchema, type AlertRuleDefinition } from './rule.ts';

/**
 * Alert rules written in the config file (`alerts`: the API's rule body plus `org`). Checked by
 * the same schema and catalog rules as the API, with errors that name the rule: its index and
 * name, then the field (`alerts[1] ("Busy /a").window: …`). Pure.
 */

export interface ConfigAlertRule {
  org: string;
  rule: AlertRuleDefinition;
}

const label = (index: number, entry: unknown): string => {
  const name = typeof entry === 'object' && entry !== null ? (entry as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.trim() !== '' ? `alerts[${index}] (${JSON.stringify(name.trim())})` : `alerts[${index}]`;
};

/** Shape and field rules; throws ValidationError whose field names the rule and the field. */
export function parseConfigAlertRules(entries: readonly unknown[]): ConfigAlertRule[] {
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const where = label(index, entry);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw ValidationError.field(where, 'expected an object (an alert rule with "org")');
    const { org, ...body } = entry as Record<string, unknown>;
    if (typeof org !== 'string' || !isValidOrgId(org)) throw ValidationError.field(`${where}.org`, 'required: the id of the organization the rule belongs to');
    const parsed = alertRuleSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw ValidationError.field(`${where}${issue.path.length > 0 ? `.${issue.path.join('.')}` : ''}`, issue.message);
    }
    const key = `${org}\u0000${parsed.data.name}`;
    if (seen.has(key)) throw ValidationError.field(`${where}.name`, `organization "${org}" already has a config rule named "${parsed.data.name}" (names are the rules' keys)`);
    seen.add(key);
    return { org, rule: parsed.data };
  });
}

/** What zod cannot know: the metric exists (built-in or custom) and has the filter's dimension. */
export function catalogIssue(metrics: readonly MetricDefinition[], rule: AlertRuleDefinition): { field: string; message: string } | null {
  const metric = metrics.find((m) => m.name === rule.metric);
  if (metric === undefined) return { field: 'metric', message: `unknown metric "${rule.metric}" (see GET /api/v1/orgs/{org}/metrics)` };
  if (rule.dimension !== undefined && !metric.dimensions.includes(rule.dimension.name))
    return { field: 'dimension.name', message: `metric "${metric.name}" has no dimension "${rule.dimension.name}" (it has: ${metric.dimensions.join(', ') || 'none'})` };
  return null;
}

/** The catalog check over every config rule; throws on the first that fails, naming it. */
export function checkConfigRulesAgainstCatalog(metrics: readonly MetricDefinition[], rules: readonly ConfigAlertRule[]): void {
  rules.forEach(({ rule }, index) => {
    const issue = catalogIssue(metrics, rule);
    if (issue !== null) throw ValidationError.field(`${label(index, rule)}.${issue.field}`, issue.message);
  });
}

/** Config rules grouped by organization id. */
export function configRulesByOrg(rules: readonly ConfigAlertRule[]): Map<string, AlertRuleDefinition[]> {
  const byOrg = new Map<string, AlertRuleDefinition[]>();
  for (const { org, rule } of rules) byOrg.set(org, [...(byOrg.get(org) ?? []), rule]);
  return byOrg;
}
