import type { Granularity } from './rollup-types.ts';

/**
 * Calendar buckets in an IANA time zone, as UTC instants (epoch ms). Buckets are
 * [start, next(start)); days may have 23 or 25 hours; weeks start on ISO Monday.
 * CONTRACT (implemented by the domain work; signatures are fixed):
 */

/** Start of the bucket containing `ts`. */
export function floorBucket(ts: number, granularity: Granularity, timeZone: string): number {
  void ts; void granularity; void timeZone;
  throw new Error('not implemented');
}

/** Start of the bucket after the one starting at (or containing) `bucketStart`. */
export function nextBucket(bucketStart: number, granularity: Granularity, timeZone: string): number {
  void bucketStart; void granularity; void timeZone;
  throw new Error('not implemented');
}

/** Starts of every bucket that overlaps [from, to), ascending. */
export function bucketStartsBetween(from: number, to: number, granularity: Granularity, timeZone: string): number[] {
  void from; void to; void granularity; void timeZone;
  throw new Error('not implemented');
}

/** Local calendar date `YYYY-MM-DD` of an instant in the zone. */
export function localDate(ts: number, timeZone: string): string {
  void ts; void timeZone;
  throw new Error('not implemented');
}

/** UTC instant of local midnight starting the calendar date `YYYY-MM-DD` in the zone. */
export function startOfLocalDate(date: string, timeZone: string): number {
  void date; void timeZone;
  throw new Error('not implemented');
}
