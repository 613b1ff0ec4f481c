import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app/context.ts';
import { loadOrganization } from '../../app/query/scope.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import { catalogIssue } from '../domain/config-rules.ts';
import type { AlertRuleDefinition } from '../domain/rule.ts';
import type { StoredAlertRule } from '../ports.ts';
import { ensureConfigRules } from './sync-config-rules.ts';

/**
 * Alert rules per organization (admin key): create, list, delete. The body is zod-checked by the
 * route. Rules from the config file are listed with the others but are the file's to change:
 * the API refuses to delete one or to create a rule of the same name (409), so the two never
 * silently diverge.
 */

/** What zod cannot know: the metric must exist and be broken down by the filter's dimension. */
export function checkAgainstCatalog(ctx: Pick<AppContext, 'metrics'>, rule: AlertRuleDefinition): void {
  const issue = catalogIssue(ctx.metrics, rule);
  if (issue !== null) throw ValidationError.field(issue.field, issue.message);
}

export async function listAlertRules(ctx: AppContext, orgId: string): Promise<StoredAlertRule[]> {
  const org = await loadOrganization(ctx, orgId);
  await ensureConfigRules(ctx, org.id);
  return ctx.alerts.store.listRules(org.id);
}

export async function createAlertRule(ctx: AppContext, orgId: string, rule: AlertRuleDefinition): Promise<StoredAlertRule> {
  const org = await loadOrganization(ctx, orgId);
  checkAgainstCatalog(ctx, rule);
  const existing = await listAlertRules(ctx, org.id);
  if (existing.some((r) => r.configKey === rule.name))
    throw new ConflictError(`alert rule "${rule.name}" of organization "${org.id}" is managed by the config file (alerts); change it there, or pick another name`);
  const now = ctx.clock.now();
  const stored: StoredAlertRule = { id: randomUUID(), orgId: org.id, definition: rule, state: 'ok', stateSince: now, lastValue: null, createdAt: now, configKey: null };
  await ctx.alerts.store.createRule(stored);
  return stored;
}

export async function deleteAlertRule(ctx: AppContext, orgId: string, id: string): Promise<void> {
  const org = await loadOrganization(ctx, orgId);
  const rule = (await listAlertRules(ctx, org.id)).find((r) => r.id === id);
  if (rule?.configKey != null) throw new ConflictError(`alert rule "${rule.configKey}" is managed by the config file (alerts); remove it there and restart`);
  if (!(await ctx.alerts.store.deleteRule(org.id, id))) throw new NotFoundError(`alert rule "${id}" does not exist in organization "${org.id}"`);
}
