import type { AppContext } from '../../app/context.ts';
import { evaluateAlerts } from './evaluate-alerts.ts';

/**
 * Runs an aggregation pass, then evaluates the alert rules of the organizations that had dirty
 * hours before it (those whose numbers may have moved). Evaluation runs even when the pass
 * failed for some organization, and never turns a successful pass into a failure.
 */
export async function evaluateAlertsAfter<T>(ctx: AppContext, pass: () => Promise<T>): Promise<T> {
  const touched = await ctx.dirtyQueue.dirtyOrgs();
  try {
    return await pass();
  } finally {
    await evaluateAlerts(ctx, touched).catch((error: unknown) => ctx.log.error({ err: error }, 'alert evaluation failed'));
  }
}
