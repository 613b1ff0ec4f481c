import { mergeAllPartials } from '../domain/rollup-math.ts';
import type { Granularity, RollupRow } from '../domain/rollup-types.ts';
import { nextBucket } from '../domain/time-buckets.ts';

/**
 * Merges finer rows into the coarser buckets given by `bucketOf`. Sources are merged in
 * bucket order so floating-point sums come out bit-identical however they were gathered.
 */
export function mergeIntoBuckets(rows: readonly RollupRow[], granularity: Granularity, bucketOf: (start: number) => number): RollupRow[] {
  let inOrder = true;
  for (let i = 1; i < rows.length && inOrder; i += 1) inOrder = rows[i]!.bucketStart >= rows[i - 1]!.bucketStart;
  const ordered = inOrder ? rows : [...rows].sort((a, b) => a.bucketStart - b.bucketStart);
  const targets = new Map<number, number>();
  const groups = new Map<string, { bucketStart: number; rows: RollupRow[] }>();
  for (const row of ordered) {
    let target = targets.get(row.bucketStart);
    if (target === undefined) {
      target = bucketOf(row.bucketStart);
      targets.set(row.bucketStart, target);
    }
    const key = `${target}\u0000${row.metric}\u0000${row.project}\u0000${row.tag}\u0000${row.dimName}\u0000${row.dimValue}`;
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { bucketStart: target, rows: [row] });
  }
  const merged: RollupRow[] = [];
  for (const { bucketStart, rows: sources } of groups.values()) {
    const first = sources[0]!;
    const partial = sources.length === 1 ? first : mergeAllPartials(sources);
    merged.push({
      orgId: first.orgId,
      granularity,
      bucketStart,
      metric: first.metric,
      project: first.project,
      tag: first.tag,
      dimName: first.dimName,
      dimValue: first.dimValue,
      count: partial.count,
      sum: partial.sum,
      min: partial.min,
      max: partial.max,
      sketch: partial.sketch,
      lastValue: partial.lastValue,
      lastTs: partial.lastTs,
    });
  }
  return merged;
}

/** Contiguous runs of sorted bucket starts, as [from, to) ranges. */
export function contiguousRanges(starts: readonly number[], granularity: Granularity, timeZone: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const start of starts) {
    const end = nextBucket(start, granularity, timeZone);
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  return ranges;
}

