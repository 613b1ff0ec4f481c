import { mergeAllPartials } from '../domain/rollup-math.ts';
import { rollupRow, type Granularity, type RollupKey, type RollupRow } from '../domain/rollup-types.ts';
import { nextBucket } from '../domain/time-buckets.ts';

/** Sources of one merged row; the key fields are the first source's. */
type Sources = RollupRow[];
/** dimension value → project → tag → sources. */
type ByValue = Map<string, Map<string, Map<string, Sources>>>;

/**
 * Merges finer rows into the coarser buckets given by `bucketOf`. Sources are merged in
 * bucket order so floating-point sums come out bit-identical however they were gathered.
 *
 * Rows are grouped through nested maps keyed by the rows' own strings (target, metric,
 * dimension, value, project, tag), never by a key concatenated per row: a day merge groups
 * every hour row of the day, and the concatenated keys were most of its time and garbage.
 * Consecutive rows usually share their series (a dimension's values come together), so the
 * last series' map is reused without a lookup.
 */
export function mergeIntoBuckets(rows: readonly RollupRow[], granularity: Granularity, bucketOf: (start: number) => number): RollupRow[] {
  let inOrder = true;
  for (let i = 1; i < rows.length && inOrder; i += 1) inOrder = rows[i]!.bucketStart >= rows[i - 1]!.bucketStart;
  const ordered = inOrder ? rows : [...rows].sort((a, b) => a.bucketStart - b.bucketStart);
  // target bucket → metric → dimension name → ByValue
  const byTarget = new Map<number, Map<string, Map<string, ByValue>>>();
  let lastSource = NaN;
  let target = NaN;
  let byMetric: Map<string, Map<string, ByValue>> | undefined;
  let lastMetric: string | null = null;
  let lastDimName: string | null = null;
  let byValue: ByValue | undefined;
  for (const row of ordered) {
    if (row.bucketStart !== lastSource) {
      lastSource = row.bucketStart;
      const next = bucketOf(row.bucketStart);
      if (next !== target || byMetric === undefined) {
        target = next;
        byMetric = byTarget.get(target);
        if (byMetric === undefined) byTarget.set(target, (byMetric = new Map()));
        lastMetric = null;
      }
    }
    if (row.metric !== lastMetric || row.dimName !== lastDimName || byValue === undefined) {
      let byDim = byMetric!.get(row.metric);
      if (byDim === undefined) byMetric!.set(row.metric, (byDim = new Map()));
      byValue = byDim.get(row.dimName);
      if (byValue === undefined) byDim.set(row.dimName, (byValue = new Map()));
      lastMetric = row.metric;
      lastDimName = row.dimName;
    }
    let byProject = byValue.get(row.dimValue);
    if (byProject === undefined) byValue.set(row.dimValue, (byProject = new Map()));
    let byTag = byProject.get(row.project);
    if (byTag === undefined) byProject.set(row.project, (byTag = new Map()));
    const sources = byTag.get(row.tag);
    if (sources === undefined) byTag.set(row.tag, [row]);
    else sources.push(row);
  }
  const merged: RollupRow[] = [];
  for (const [bucketStart, metrics] of byTarget) {
    for (const dims of metrics.values()) {
      for (const values of dims.values()) {
        for (const projects of values.values()) {
          for (const tags of projects.values()) {
            for (const sources of tags.values()) merged.push(mergedRow(sources, granularity, bucketStart));
          }
        }
      }
    }
  }
  return merged;
}

function mergedRow(sources: Sources, granularity: Granularity, bucketStart: number): RollupRow {
  const first = sources[0]!;
  const partial = sources.length === 1 ? first : mergeAllPartials(sources);
  return rollupRow(first.orgId, granularity, bucketStart, first.metric, first.project, first.tag, first.dimName, first.dimValue, partial);
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
