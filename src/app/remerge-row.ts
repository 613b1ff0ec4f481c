import type { Organization } from '../domain/organization.ts';
import type { Granularity, RollupKey, RollupRow } from '../domain/rollup-types.ts';
import { bucketStartsBetween, nextBucket } from '../domain/time-buckets.ts';
import type { AppContext } from './context.ts';
import { mergeIntoBuckets, seriesKey } from './rollup-merge.ts';

/** Rows a pass has decided, per tier: bucket start → series key → row (null: the row goes away). */
export type Overlay = Map<number, Map<string, RollupRow | null>>;

interface FinerPart {
  granularity: Granularity;
  include(bucketStart: number): boolean;
}

const everything = () => true;

/**
 * One coarse row rebuilt from its finer rows, for the rare key whose delta cannot be exact
 * (ADR 0007). Reads only that series (metric, project, tag, dimension) over the bucket, takes
 * this pass's not-yet-written finer rows from `overlays`, and merges with the same
 * decomposition as a full rebuild (coarse-tiers.ts): days from hours, weeks from days,
 * months from the weeks lying inside them plus their edge days. Null when nothing is left.
 */
export async function remergeRow(
  ctx: Pick<AppContext, 'rollupReader'>,
  org: Organization,
  target: RollupKey,
  overlays: ReadonlyMap<Granularity, Overlay>,
  composeFromWeeks: boolean,
): Promise<RollupRow | null> {
  const tz = org.timezone;
  const from = target.bucketStart;
  const to = nextBucket(from, target.granularity, tz);
  const parts: FinerPart[] = [];
  if (target.granularity === 'day') parts.push({ granularity: 'hour', include: everything });
  else if (target.granularity === 'week' || !composeFromWeeks) parts.push({ granularity: 'day', include: everything });
  else {
    const weeks = new Set(bucketStartsBetween(from, to, 'week', tz).filter((w) => w >= from && nextBucket(w, 'week', tz) <= to));
    const covered = new Set<number>();
    for (const week of weeks) for (const day of bucketStartsBetween(week, nextBucket(week, 'week', tz), 'day', tz)) covered.add(day);
    parts.push({ granularity: 'week', include: (start) => weeks.has(start) });
    parts.push({ granularity: 'day', include: (start) => !covered.has(start) });
  }

  const key = seriesKey(target);
  const sources: RollupRow[] = [];
  for (const part of parts) {
    const rows = await ctx.rollupReader.readRollups({
      orgId: target.orgId,
      granularity: part.granularity,
      from,
      to,
      metrics: [target.metric],
      project: target.project,
      tag: target.tag,
      dimName: target.dimName,
    });
    const byBucket = new Map<number, RollupRow>();
    for (const row of rows) if (row.dimValue === target.dimValue && part.include(row.bucketStart)) byBucket.set(row.bucketStart, row);
    for (const [bucket, decided] of overlays.get(part.granularity) ?? []) {
      if (bucket < from || bucket >= to || !part.include(bucket) || !decided.has(key)) continue;
      const row = decided.get(key)!;
      if (row === null) byBucket.delete(bucket);
      else byBucket.set(bucket, row);
    }
    for (const row of byBucket.values()) sources.push(row);
  }
  if (sources.length === 0) return null;
  return mergeIntoBuckets(sources, target.granularity, () => from)[0] ?? null;
}
