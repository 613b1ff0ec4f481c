import type { Granularity } from '../domain/rollup-types.ts';

/** What a pass wrote, per tier: buckets touched and rows written (upserted or removed) in them. */
export type TierCounts = Record<Granularity, { buckets: number; rows: number }>;

export function emptyTierCounts(): TierCounts {
  return { hour: { buckets: 0, rows: 0 }, day: { buckets: 0, rows: 0 }, week: { buckets: 0, rows: 0 }, month: { buckets: 0, rows: 0 } };
}

export function addTierCounts(into: TierCounts, from: TierCounts): void {
  for (const tier of Object.keys(into) as Granularity[]) {
    into[tier].buckets += from[tier].buckets;
    into[tier].rows += from[tier].rows;
  }
}
