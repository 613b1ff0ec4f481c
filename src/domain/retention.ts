import type { Granularity } from './rollup-types.ts';
import { floorBucket } from './time-buckets.ts';

/**
 * Retention as a pure selection (SPEC §3): this module says what is expired, the stores delete
 * it. A tier with `null` retention is kept forever.
 */

export interface RetentionConfig {
  rawMs: number;
  hourMs: number;
  dayMs: number;
  weekMs: number | null;
  monthMs: number | null;
}

/** Per tier, the instant before which data is expired; null keeps the tier forever. */
export interface RetentionCutoffs {
  /** Raw events with ts < raw are expired. */
  raw: number | null;
  /** Rollup rows with bucketStart < cutoff are expired. */
  hour: number | null;
  day: number | null;
  week: number | null;
  month: number | null;
}

export type RetentionTier = 'raw' | Granularity;

function cutoff(now: number, keepMs: number | null): number | null {
  return keepMs === null ? null : now - keepMs;
}

/**
 * Cutoffs for one organization. Rollup cutoffs are aligned down to a bucket start in the
 * organization's zone, so a bucket is dropped only when all of it is older than its retention.
 */
export function retentionCutoffs(now: number, retention: RetentionConfig, timeZone = 'UTC'): RetentionCutoffs {
  const aligned = (keepMs: number | null, granularity: Granularity): number | null => {
    const instant = cutoff(now, keepMs);
    return instant === null ? null : floorBucket(instant, granularity, timeZone);
  };
  return {
    raw: cutoff(now, retention.rawMs),
    hour: aligned(retention.hourMs, 'hour'),
    day: aligned(retention.dayMs, 'day'),
    week: aligned(retention.weekMs, 'week'),
    month: aligned(retention.monthMs, 'month'),
  };
}

/** True when an event at `ts` (tier 'raw') or a rollup bucket starting at `ts` is expired. */
export function isExpired(ts: number, tier: RetentionTier, cutoffs: RetentionCutoffs): boolean {
  const limit = cutoffs[tier];
  return limit !== null && ts < limit;
}

/** The tier each granularity is rebuilt from (weeks and months from days: 31-day months outlive 30 days of hours). */
export const REBUILD_SOURCE: Readonly<Record<Granularity, RetentionTier>> = Object.freeze({
  hour: 'raw',
  day: 'hour',
  week: 'day',
  month: 'day',
});

/**
 * Whether the bucket starting at `bucketStart` can be rebuilt from its source tier: all of its
 * source data must still be kept, else a rebuild would overwrite a complete rollup with a
 * partial one (a late event older than that must not trigger one).
 */
export function canRebuild(bucketStart: number, granularity: Granularity, cutoffs: RetentionCutoffs): boolean {
  return !isExpired(bucketStart, REBUILD_SOURCE[granularity], cutoffs);
}
