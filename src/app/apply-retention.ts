import type { Granularity } from '../domain/rollup-types.ts';
import { retentionCutoffs, type RetentionCutoffs } from '../domain/retention.ts';
import type { AppContext } from './context.ts';

export interface RetentionResult {
  dryRun: boolean;
  cutoffs: RetentionCutoffs;
  /** Raw events removed (or that would be, in a dry run). */
  events: number;
  rollups: Record<Granularity, number>;
  duration_ms: number;
}

const TIERS: readonly Granularity[] = ['hour', 'day', 'week', 'month'];

/**
 * Retention is a pure selection (the cutoffs), then a delete per tier and of raw events.
 * A dry run counts instead. Week and month rollups are kept unless configured otherwise.
 */
export async function applyRetention(ctx: Pick<AppContext, 'retentionStore' | 'orgStore' | 'dataVersions' | 'clock' | 'config' | 'log'>, input: { dryRun: boolean }): Promise<RetentionResult> {
  const started = ctx.clock.now();
  const wallStart = performance.now();
  // Deletes span all organizations, so buckets are aligned in UTC (domain/retention.ts).
  const cutoffs = retentionCutoffs(started, ctx.config.retention);
  const rollups: Record<Granularity, number> = { hour: 0, day: 0, week: 0, month: 0 };
  for (const tier of TIERS) {
    const cutoff = cutoffs[tier];
    if (cutoff === null) continue;
    rollups[tier] = input.dryRun
      ? await ctx.retentionStore.countRollupsBefore(tier, cutoff)
      : await ctx.retentionStore.deleteRollupsBefore(tier, cutoff);
  }
  const rawCutoff = cutoffs.raw;
  let events = 0;
  if (rawCutoff !== null) {
    events = input.dryRun ? await ctx.retentionStore.countEventsBefore(rawCutoff) : await ctx.retentionStore.deleteEventsBefore(rawCutoff);
  }
  const result: RetentionResult = { dryRun: input.dryRun, cutoffs, events, rollups, duration_ms: Math.round(performance.now() - wallStart) };
  if (!input.dryRun && (events > 0 || TIERS.some((tier) => rollups[tier] > 0))) {
    // Cached answers may include the deleted rows; queries must see the new state at once.
    for (const org of await ctx.orgStore.listOrgs()) await ctx.dataVersions.bumpDataVersion(org.id);
  }
  ctx.log.info({ ...result }, input.dryRun ? 'retention dry run' : 'retention applied');
  return result;
}
