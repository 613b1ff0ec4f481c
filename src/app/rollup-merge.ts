import { mergeAllPartials } from '../domain/rollup-math.ts';
import type { Granularity, RollupKey, RollupRow } from '../domain/rollup-types.ts';
import { nextBucket } from '../domain/time-buckets.ts';

/**
 * Merges finer rows into the coarser buckets given by `bucketOf`. Sources are merged in
 * bucket order so floating-point sums come out bit-identical however they were gathered.
 */
export function mergeIntoBuckets(rows: readonly RollupRow[], granularity: Granularity, bucketOf: (start: number) => number): RollupRow[] {
  let inOrder = true;
  for (let i = 1; i < rows.length && inOrder; i += 1) inOrder = rows[i]!.bucketStart >= rows[i - 1]!.bucketStart;
  const ordered = inOrder ? rows : [...rows].sort((a, b) => a.bucketStart - b.bucketStart);
  // target bucket → "metric dimName" → "dimValue project tag" → sources; nested maps keep keys short.
  const byTarget = new Map<number, Map<string, Map<string, RollupRow[]>>>();
  const targets = new Map<number, number>();
  for (const row of ordered) {
    let target = targets.get(row.bucketStart);
    if (target === undefined) {
      target = bucketOf(row.bucketStart);
      targets.set(row.bucketStart, target);
    }
    let bySeries = byTarget.get(target);
    if (bySeries === undefined) {
      bySeries = new Map();
      byTarget.set(target, bySeries);
    }
    const seriesKey = row.metric + '\u0000' + row.dimName;
    let byGroup = bySeries.get(seriesKey);
    if (byGroup === undefined) {
      byGroup = new Map();
      bySeries.set(seriesKey, byGroup);
    }
    const groupKey = row.dimValue + '\u0000' + row.project + '\u0000' + row.tag;
    const sources = byGroup.get(groupKey);
    if (sources === undefined) byGroup.set(groupKey, [row]);
    else sources.push(row);
  }
  const merged: RollupRow[] = [];
  for (const [bucketStart, bySeries] of byTarget) {
    for (const byGroup of bySeries.values()) {
      for (const sources of byGroup.values()) {
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
          hll: partial.hll,
        });
      }
    }
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


/** A row's identity inside its bucket (metric, dimension, value, project, tag). */
export function seriesKey(row: RollupKey): string {
  return `${row.metric}\u0000${row.dimName}\u0000${row.dimValue}\u0000${row.project}\u0000${row.tag}`;
}
