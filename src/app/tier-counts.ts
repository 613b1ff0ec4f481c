import type { Granularity } from '../domain/rollup-types.ts';

/**
 * What a pass wrote, per tier: buckets touched, rows written (upserted or removed) in them, and
 * of those the rows rebuilt from their finer rows because a delta could not be exact (ADR 0007).
 */
export type TierCounts = Record<Granularity, { buckets: number; rows: number; remerged: number }>;

export function emptyTierCounts(): TierCounts {
  const zero = () => ({ buckets: 0, rows: 0, remerged: 0 });
  return { hour: zero(), day: zero(), week: zero(), month: zero() };
}

export function addTierCounts(into: TierCounts, from: TierCounts): void {
  for (const tier of Object.keys(into) as Granularity[]) {
    into[tier].buckets += from[tier].buckets;
    into[tier].rows += from[tier].rows;
    into[tier].remerged += from[tier].remerged;
  }
}
