import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app/context.ts';

/**
 * Makes the config file's rules effective for an organization: upserted into its rule table
 * (marked config-managed, keyed by name) the first time this process evaluates or lists that
 * organization's rules, so an organization created after start-up gets them too. The file is
 * read once at start; a changed file takes effect after a restart.
 */
export async function ensureConfigRules(ctx: Pick<AppContext, 'alerts' | 'clock'>, orgId: string): Promise<void> {
  const { alerts } = ctx;
  if (alerts.syncedOrgs.has(orgId)) return;
  // Also for an organization without config rules: removes those taken out of the file.
  await alerts.store.syncConfigRules(orgId, alerts.configRules.get(orgId) ?? [], ctx.clock.now(), randomUUID);
  alerts.syncedOrgs.add(orgId);
}
