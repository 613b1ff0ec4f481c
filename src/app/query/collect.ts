import type { MetricDefinition } from '../../domain/metrics/definition.ts';
import type { PlanPiece, SeriesPlan } from '../../domain/query-plan.ts';
import { seriesPieces } from '../../domain/query-plan.ts';
import { mergeAllPartials, toStats, type RollupStats } from '../../domain/rollup-math.ts';
import type { RollupPartial, RollupRow } from '../../domain/rollup-types.ts';
import type { AppContext } from '../context.ts';
import { readPartials } from './read-partials.ts';

/**
 * The merge stage: rows from every tier and from raw events become one partial per
 * (metric, dimension value) for a total, or per (metric, dimension value, point) for a
 * series. Only mergeable partials are combined; statistics are derived at the very end.
 */

export interface CollectRequest {
  orgId: string;
  metrics: readonly MetricDefinition[] | null;
  project?: string | undefined;
  tag?: string | undefined;
  dimName: string;
}

/** metric → dimension value ('' for global rows) → merged partial. */
export type Totals = Map<string, Map<string, RollupPartial>>;

function group<T>(rows: readonly RollupRow[], keyOf: (row: RollupRow) => T): Map<string, Map<string, Map<T, RollupRow[]>>> {
  const byMetric = new Map<string, Map<string, Map<T, RollupRow[]>>>();
  for (const row of rows) {
    let byDim = byMetric.get(row.metric);
    if (!byDim) byMetric.set(row.metric, (byDim = new Map()));
    let byKey = byDim.get(row.dimValue);
    if (!byKey) byDim.set(row.dimValue, (byKey = new Map()));
    const key = keyOf(row);
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  return byMetric;
}

export async function collectTotals(ctx: AppContext, request: CollectRequest, pieces: readonly PlanPiece[]): Promise<Totals> {
  const rows = await readPartials(ctx, { ...request, pieces });
  const totals: Totals = new Map();
  for (const [metric, byDim] of group(rows, () => 0)) {
    const merged = new Map<string, RollupPartial>();
    for (const [dimValue, byKey] of byDim) merged.set(dimValue, mergeAllPartials(byKey.get(0) ?? []));
    totals.set(metric, merged);
  }
  return totals;
}

export interface SeriesCells {
  /** Merged partial per point (undefined where nothing was recorded). */
  points: Array<RollupPartial | undefined>;
  total: RollupPartial;
}

/** metric → dimension value → cells. */
export type SeriesData = Map<string, Map<string, SeriesCells>>;

export async function collectSeries(ctx: AppContext, request: CollectRequest, plan: SeriesPlan): Promise<SeriesData> {
  const rows = await readPartials(ctx, { ...request, pieces: seriesPieces(plan) });
  const starts = plan.buckets.map((bucket) => bucket.start);
  const pointOf = (ts: number): number => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= ts) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const data: SeriesData = new Map();
  for (const [metric, byDim] of group(rows, (row) => pointOf(row.bucketStart))) {
    const cellsByDim = new Map<string, SeriesCells>();
    for (const [dimValue, byPoint] of byDim) {
      const points: Array<RollupPartial | undefined> = new Array(starts.length).fill(undefined);
      for (const [index, pointRows] of byPoint) points[index] = mergeAllPartials(pointRows);
      cellsByDim.set(dimValue, { points, total: mergeAllPartials(points.filter((p): p is RollupPartial => p !== undefined)) });
    }
    data.set(metric, cellsByDim);
  }
  return data;
}

const EMPTY: RollupStats = { count: 0, sum: 0, min: null, max: null, avg: null, p50: null, p95: null, p99: null, last: null };

export function statsOf(partial: RollupPartial | undefined): RollupStats {
  return partial === undefined ? EMPTY : toStats(partial);
}

/**
 * The one number a metric shows for a bucket or range: the event count for counters, the sum
 * of values for sums and distributions, the latest reading for gauges.
 */
export function valueOf(metric: MetricDefinition, stats: RollupStats): number {
  if (metric.kind === 'gauge') return stats.last ?? 0;
  return stats.sum;
}

/** Metrics to report: the selection, plus (when everything was asked for) metrics found only in the data. */
export function reportedMetrics(selected: readonly MetricDefinition[], all: boolean, found: Iterable<string>, synthesize: (name: string) => MetricDefinition): MetricDefinition[] {
  if (!all) return [...selected];
  const known = new Set(selected.map((m) => m.name));
  const extra = [...new Set(found)].filter((name) => !known.has(name)).sort();
  return [...selected, ...extra.map(synthesize)];
}
