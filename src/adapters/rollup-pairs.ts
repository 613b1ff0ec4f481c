import type { RollupRow } from '../domain/rollup-types.ts';
import type { RollupPair, RollupQuery } from '../ports/storage.ts';

/**
 * A read of (metric, dimension) pairs (`RollupQuery.pairs`), as both adapters take it: each pair
 * once, in a stable order, and never together with the `metrics` or `dimName` filters it replaces.
 */
export function pairsOf(query: RollupQuery): RollupPair[] {
  if (query.metrics !== undefined || query.dimName !== undefined) {
    throw new Error('readRollups: `pairs` replaces `metrics` and `dimName`; give one or the other');
  }
  const seen = new Map<string, RollupPair>();
  for (const pair of query.pairs ?? []) seen.set(pairKey(pair.metric, pair.dimName), { metric: pair.metric, dimName: pair.dimName });
  return [...seen.values()];
}

export function pairKey(metric: string, dimName: string): string {
  return `${metric}\u0000${dimName}`;
}

/** The pairs as `pairKey`s, to tell a row read by metric alone (pre-packing layout) whether it was asked for. */
export function pairKeySet(pairs: readonly RollupPair[]): Set<string> {
  return new Set(pairs.map((pair) => pairKey(pair.metric, pair.dimName)));
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The order of a pack read — bucket, metric, dimension — for rows of several pairs read apart (a stable sort keeps each pack's own order). */
export function byPack(a: RollupRow, b: RollupRow): number {
  return a.bucketStart - b.bucketStart || compareText(a.metric, b.metric) || compareText(a.dimName, b.dimName);
}
