import type { Granularity } from './rollup-types.ts';
import { floorBucket, nextBucket } from './time-buckets.ts';

/**
 * Query planning: which stored tier answers which part of a `[start, end)` range.
 *
 * Rollups are aligned to the organization's zone (the storage zone). A range is split
 * into the coarsest whole buckets the allowed tiers offer; whatever is left at the edges
 * goes to the next finer tier, and what is left below an hour is computed from raw
 * events. Every piece is `[from, to)`, pieces never overlap and together cover the range
 * exactly, so totals equal the raw data for any range.
 */

export type SourceParam = 'auto' | 'hourly' | 'daily' | 'monthly';
export type ResolvedSource = Exclude<SourceParam, 'auto'>;
const DAY_MS = 86_400_000;
/** SPEC §4 `auto`: ≤ 7 days from hour rollups, ≤ 90 days from day rollups, else month rollups. */
export const AUTO_HOURLY_MAX_MS = 7 * DAY_MS;
export const AUTO_DAILY_MAX_MS = 90 * DAY_MS;

export interface RollupPiece {
  kind: 'rollup';
  granularity: Granularity;
  /** Buckets of `granularity` starting in [from, to); both ends are bucket boundaries. */
  from: number;
  to: number;
}

export interface RawPiece {
  kind: 'raw';
  /** Events with ts in [from, to); holds no whole stored hour (so it is shorter than two hours). */
  from: number;
  to: number;
}

export type PlanPiece = RollupPiece | RawPiece;

/**
 * Earliest instant from which each tier's rollups are complete (retention deletes older
 * ones); a tier without an entry is complete. Raw events are the last resort either way.
 */
export type TierHorizons = Partial<Record<Granularity, number>>;

/**
 * `auto` by span, but never resting on a tier that has already expired for part of the range:
 * a few days from two months ago are read from day rollups, since their hours are gone.
 */
export function resolveSource(source: SourceParam, start: number, end: number, horizons: TierHorizons = {}): ResolvedSource {
  if (source !== 'auto') return source;
  const span = end - start;
  const expired = (tier: Granularity) => horizons[tier] !== undefined && start < horizons[tier]!;
  if (span > AUTO_DAILY_MAX_MS || expired('day')) return 'monthly';
  if (span > AUTO_HOURLY_MAX_MS || expired('hour')) return 'daily';
  return 'hourly';
}

/** Tiers a source may read, coarsest first. Hours are always the finest rollup tier. */
export function tiersForSource(source: ResolvedSource): Granularity[] {
  switch (source) {
    case 'hourly':
      return ['hour'];
    case 'daily':
      return ['day', 'hour'];
    case 'monthly':
      return ['month', 'day', 'hour'];
  }
}

/** First bucket boundary at or after `ts`. */
function ceilBucket(ts: number, granularity: Granularity, timeZone: string): number {
  const floor = floorBucket(ts, granularity, timeZone);
  return floor === ts ? ts : nextBucket(floor, granularity, timeZone);
}

/**
 * Splits [start, end) into whole buckets of `tiers` (coarsest first) in `timeZone`, the
 * remainder as raw pieces. A tier is used only from its horizon on; before it, finer tiers
 * (and finally raw events) take over. Pieces come back in ascending time order.
 */
export function planRange(
  start: number,
  end: number,
  timeZone: string,
  tiers: readonly Granularity[],
  horizons: TierHorizons = {},
): PlanPiece[] {
  if (!(start < end)) return [];
  const [tier, ...finer] = tiers;
  if (tier === undefined) return [{ kind: 'raw', from: start, to: end }];
  const horizon = horizons[tier];
  const alignedFrom = Math.max(ceilBucket(start, tier, timeZone), horizon === undefined ? -Infinity : ceilBucket(horizon, tier, timeZone));
  const alignedTo = floorBucket(end, tier, timeZone);
  if (!(alignedFrom < alignedTo)) return planRange(start, end, timeZone, finer, horizons);
  return [
    ...planRange(start, alignedFrom, timeZone, finer, horizons),
    { kind: 'rollup', granularity: tier, from: alignedFrom, to: alignedTo },
    ...planRange(alignedTo, end, timeZone, finer, horizons),
  ];
}

/**
 * How far a range ending at `end` may be read as if it ended later: rollups of a settled tail
 * (no visible event and no pending aggregation in `[end, quietUntil)`) hold exactly the events
 * before `end` there, so the bucket containing `end` can be read whole instead of hour rows and
 * a raw scan of its last minutes. The coarsest tier whose bucket around `end` starts inside the
 * range and ends within the quiet stretch wins; `end` itself when none does.
 */
export function settledEnd(start: number, end: number, quietUntil: number | undefined, timeZone: string, tiers: readonly Granularity[], horizons: TierHorizons = {}): number {
  if (quietUntil === undefined || !(quietUntil > end)) return end;
  for (const tier of tiers) {
    const floor = floorBucket(end, tier, timeZone);
    if (floor === end) return end;
    const horizon = horizons[tier];
    if (floor < start || (horizon !== undefined && floor < horizon)) continue;
    const ceil = nextBucket(floor, tier, timeZone);
    if (ceil <= quietUntil) return ceil;
  }
  return end;
}

export interface RangePlan {
  source: ResolvedSource;
  pieces: PlanPiece[];
}

/** Plan for a total over [start, end) (summary, breakdown, compare). */
export function planTotal(input: { start: number; end: number; storageZone: string; source: SourceParam; horizons?: TierHorizons; quietUntil?: number | undefined }): RangePlan {
  const horizons = input.horizons ?? {};
  const source = resolveSource(input.source, input.start, input.end, horizons);
  const tiers = tiersForSource(source);
  const end = settledEnd(input.start, input.end, input.quietUntil, input.storageZone, tiers, horizons);
  return { source, pieces: planRange(input.start, end, input.storageZone, tiers, horizons) };
}

/** Every stored tier, coarsest first: weeks straddle months, so they only fill a month's edges. */
const ALL_TIERS: readonly Granularity[] = ['month', 'week', 'day', 'hour'];

/**
 * Plan for a total when the caller left the tier to us (`auto`, the dashboard): any stored
 * tier may answer, coarsest first. A total is exact from any tier, and a month holds about as
 * many rows as one of its days, so a 90-day total reads a tenth of the rows the day tier needs.
 * `source` still reports what `auto` resolves to by span.
 */
export function planTotalCoarsest(input: { start: number; end: number; storageZone: string; horizons?: TierHorizons; quietUntil?: number | undefined }): RangePlan {
  const horizons = input.horizons ?? {};
  const end = settledEnd(input.start, input.end, input.quietUntil, input.storageZone, ALL_TIERS, horizons);
  return {
    source: resolveSource('auto', input.start, input.end, horizons),
    pieces: planRange(input.start, end, input.storageZone, ALL_TIERS, horizons),
  };
}

export interface SeriesBucketPlan {
  /** The series bucket in the query zone, clipped to [start, end). */
  start: number;
  end: number;
  /** Unclipped bucket start, the point's timestamp. */
  bucketStart: number;
  pieces: PlanPiece[];
}

export interface SeriesPlan {
  source: ResolvedSource;
  granularity: Granularity;
  buckets: SeriesBucketPlan[];
}

/** Stored tiers whose buckets may sit inside one series bucket of `granularity` (if aligned). */
function tiersInside(granularity: Granularity): readonly Granularity[] {
  switch (granularity) {
    case 'hour':
      return ['hour'];
    case 'day':
      return ['day', 'hour'];
    case 'week':
      return ['week', 'day', 'hour'];
    case 'month':
      return ['month', 'day', 'hour'];
  }
}

const TIER_RANK: Record<Granularity, number> = { hour: 0, day: 1, week: 2, month: 3 };

/**
 * Plan for a series: the range is cut into buckets of `granularity` in the query zone, and
 * each bucket is planned on its own, so no piece straddles two points. When the query zone
 * differs from the storage zone, pieces still align to stored buckets and the misaligned
 * remainder falls to finer tiers (down to raw events): slower, never wrong.
 */
export function planSeries(input: {
  start: number;
  end: number;
  granularity: Granularity;
  queryZone: string;
  storageZone: string;
  source: SourceParam;
  horizons?: TierHorizons;
  /** See `settledEnd`: the last point may be read from whole buckets up to this instant. */
  quietUntil?: number | undefined;
}): SeriesPlan {
  const horizons = input.horizons ?? {};
  const source = resolveSource(input.source, input.start, input.end, horizons);
  const allowed = tiersForSource(source);
  const coarsestAllowed = Math.max(...allowed.map((tier) => TIER_RANK[tier]));
  // Weeks rank between days and months: only a monthly source reads week rollups.
  const tiers = tiersInside(input.granularity).filter((tier) => TIER_RANK[tier] <= coarsestAllowed);
  const buckets: SeriesBucketPlan[] = [];
  let bucketStart = floorBucket(input.start, input.granularity, input.queryZone);
  while (bucketStart < input.end) {
    const bucketEnd = nextBucket(bucketStart, input.granularity, input.queryZone);
    const start = Math.max(bucketStart, input.start);
    const end = Math.min(bucketEnd, input.end);
    const readUntil = end === input.end ? settledEnd(start, end, input.quietUntil, input.storageZone, tiers, horizons) : end;
    buckets.push({ start, end, bucketStart, pieces: planRange(start, readUntil, input.storageZone, tiers, horizons) });
    bucketStart = bucketEnd;
  }
  return { source, granularity: input.granularity, buckets };
}

/** Number of series points [start, end) yields, without building the plan (for limits). */
export function countSeriesBuckets(start: number, end: number, granularity: Granularity, zone: string, cap: number): number {
  let count = 0;
  let bucket = floorBucket(start, granularity, zone);
  while (bucket < end && count <= cap) {
    count += 1;
    bucket = nextBucket(bucket, granularity, zone);
  }
  return count;
}

export interface FetchRange {
  kind: 'rollup' | 'raw';
  granularity: Granularity | null;
  from: number;
  to: number;
}

/**
 * Adjacent pieces of the same tier merged into one read each, so a 90-day daily series is
 * one rollup read, not ninety.
 */
export function fetchRanges(pieces: readonly PlanPiece[]): FetchRange[] {
  const keyOf = (piece: PlanPiece) => (piece.kind === 'raw' ? 'raw' : piece.granularity);
  const sorted = [...pieces].sort((a, b) => (keyOf(a) === keyOf(b) ? a.from - b.from : keyOf(a) < keyOf(b) ? -1 : 1));
  const ranges: FetchRange[] = [];
  for (const piece of sorted) {
    const last = ranges.at(-1);
    const granularity = piece.kind === 'raw' ? null : piece.granularity;
    if (last && last.kind === piece.kind && last.granularity === granularity && last.to === piece.from) {
      last.to = piece.to;
    } else {
      ranges.push({ kind: piece.kind, granularity, from: piece.from, to: piece.to });
    }
  }
  return ranges;
}

/** All pieces of a series plan, for fetching. */
export function seriesPieces(plan: SeriesPlan): PlanPiece[] {
  return plan.buckets.flatMap((bucket) => bucket.pieces);
}
