import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app/context.ts';
import { loadOrganization } from '../../app/query/scope.ts';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { AlertRuleDefinition } from '../domain/rule.ts';
import type { StoredAlertRule } from '../ports.ts';

/** Alert rules per organization (admin key): create, list, delete. The body is zod-checked by the route. */

/** What zod cannot know: the metric must exist and be broken down by the filter's dimension. */
export function checkAgainstCatalog(ctx: Pick<AppContext, 'metrics'>, rule: AlertRuleDefinition): void {
  const metric = ctx.metrics.find((m) => m.name === rule.metric);
  if (metric === undefined) throw ValidationError.field('metric', `unknown metric "${rule.metric}" (see GET /api/v1/orgs/{org}/metrics)`);
  if (rule.dimension !== undefined && !metric.dimensions.includes(rule.dimension.name))
    throw ValidationError.field('dimension.name', `metric "${metric.name}" has no dimension "${rule.dimension.name}" (it has: ${metric.dimensions.join(', ') || 'none'})`);
}

export async function createAlertRule(ctx: AppContext, orgId: string, rule: AlertRuleDefinition): Promise<StoredAlertRule> {
  const org = await loadOrganization(ctx, orgId);
  checkAgainstCatalog(ctx, rule);
  const now = ctx.clock.now();
  const stored: StoredAlertRule = { id: randomUUID(), orgId: org.id, definition: rule, state: 'ok', stateSince: now, lastValue: null, createdAt: now };
  await ctx.alerts.store.createRule(stored);
  return stored;
}

export async function listAlertRules(ctx: AppContext, orgId: string): Promise<StoredAlertRule[]> {
  const org = await loadOrganization(ctx, orgId);
  return ctx.alerts.store.listRules(org.id);
}

export async function deleteAlertRule(ctx: AppContext, orgId: string, id: string): Promise<void> {
  const org = await loadOrganization(ctx, orgId);
  if (!(await ctx.alerts.store.deleteRule(org.id, id))) throw new NotFoundError(`alert rule "${id}" does not exist in organization "${org.id}"`);
}
