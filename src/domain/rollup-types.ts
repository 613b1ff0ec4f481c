export type Granularity = 'hour' | 'day' | 'week' | 'month';
export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week', 'month'];

/** Identity of one rollup row. `dimName === ''` is the global (no dimension) row, with `dimValue === ''`. */
export interface RollupKey {
  orgId: string;
  granularity: Granularity;
  /** Bucket start as a UTC instant (epoch ms); the bucket is [bucketStart, next bucket start) in the org's zone. */
  bucketStart: number;
  metric: string;
  project: string;
  tag: string;
  dimName: string;
  dimValue: string;
}

/** Mergeable partials. avg = sum / count; quantiles come from the sketch. */
export interface RollupPartial {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Compact DDSketch encoding (non-empty bins only); distribution metrics only, else null. */
  sketch: Uint8Array | null;
  /** Gauges: the last reading in the bucket and when it was taken; null for other kinds. */
  lastValue: number | null;
  lastTs: number | null;
  /** Encoded distinct sketch (see distinct-sketch.ts); `unique` metrics only, else null. */
  hll: Uint8Array | null;
}

export type RollupRow = RollupKey & RollupPartial;

/**
 * A row from its key fields and a partial, as one object literal: every row of a pass then has
 * the same V8 shape (a spread `{ ...key, ...partial }` is several times slower on this path).
 */
export function rollupRow(
  orgId: string,
  granularity: Granularity,
  bucketStart: number,
  metric: string,
  project: string,
  tag: string,
  dimName: string,
  dimValue: string,
  p: RollupPartial,
): RollupRow {
  return {
    orgId,
    granularity,
    bucketStart,
    metric,
    project,
    tag,
    dimName,
    dimValue,
    count: p.count,
    sum: p.sum,
    min: p.min,
    max: p.max,
    sketch: p.sketch,
    lastValue: p.lastValue,
    lastTs: p.lastTs,
    hll: p.hll,
  };
}

/** Value written for events whose dimension attribute is absent or null. */
export const MISSING_DIMENSION_VALUE = '(none)';

/**
 * Project and tag of dimension rows: one row per dimension value covers every project and tag
 * (ADR 0006). An event's project is never empty, so ('', '') cannot collide with a real scope.
 */
export const ALL_SCOPES_PROJECT = '';
export const ALL_SCOPES_TAG = '';
