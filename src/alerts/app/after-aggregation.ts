import type { AppContext } from '../../app/context.ts';
import { evaluateAlerts } from './evaluate-alerts.ts';

/**
 * Runs an aggregation pass, then evaluates the alert rules of the organizations that had dirty
 * hours before it (those whose numbers may have moved). Evaluation runs even when the pass
 * failed for some organization, and never turns a successful pass into a failure.
 */
export async function evaluateAlertsAfter<T>(ctx: AppContext, pass: () => Promise<T>): Promise<T> {
  return evaluateOrgAlertsAfter(ctx, await ctx.dirtyQueue.dirtyOrgs(), pass);
}

/**
 * The same for a pass whose organizations are known up front (a backfill, the rebuild after a
 * time-zone change): it marks and drains its own hours, so the dirty marks before it do not
 * name them.
 */
export async function evaluateOrgAlertsAfter<T>(ctx: AppContext, orgIds: readonly string[], pass: () => Promise<T>): Promise<T> {
  try {
    return await pass();
  } finally {
    await evaluateAlerts(ctx, orgIds).catch((error: unknown) => ctx.log.error({ err: error }, 'alert evaluation failed'));
  }
}
