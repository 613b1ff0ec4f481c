import type { AggregatesResponse, SeriesResponse } from '../api/types.ts';
import { bucketKey, formatBucket, parseBucketTime } from '../lib/time.ts';
import type { Granularity } from '../lib/time.ts';
import type { ChartData } from './chart-data.ts';

export interface SeriesPick {
  metric: string;
  label: string;
  color?: string;
  axis?: 0 | 1;
}

/**
 * Turn `series[]` into chart columns. Entries of one metric (one per project/tag when the
 * server splits them) are summed per bucket; buckets are aligned across the picked metrics.
 */
export function seriesToChart(
  response: SeriesResponse | undefined,
  picks: SeriesPick[],
  granularity: Granularity,
  tz: string,
  unit: string,
): ChartData {
  const byMetric = new Map<string, Map<number, number>>();
  const instants = new Set<number>();
  for (const entry of response?.series ?? []) {
    if (!picks.some((p) => p.metric === entry.metric_name) || entry.dimension) continue;
    const values = byMetric.get(entry.metric_name) ?? new Map<number, number>();
    byMetric.set(entry.metric_name, values);
    for (const point of entry.data) {
      const at = parseBucketTime(point.timestamp, tz);
      instants.add(at);
      values.set(at, (values.get(at) ?? 0) + (Number(point.value) || 0));
    }
  }
  const ordered = [...instants].sort((a, b) => a - b);
  return {
    labels: ordered.map((at) => formatBucket(at, granularity, tz)),
    keys: ordered.map((at) => bucketKey(at, granularity, tz)),
    keyName: granularity === 'hour' ? 'Hour' : granularity === 'week' ? 'Week starting' : 'Date',
    unit,
    instants: ordered,
    series: picks.map((pick) => ({
      name: pick.label,
      color: pick.color,
      values: ordered.map((at) => byMetric.get(pick.metric)?.get(at) ?? 0),
      ...(pick.axis ? { axis: pick.axis } : {}),
    })),
  };
}

/** p50/p95/p99 per bucket from `aggregates` rows without a dimension. */
export function percentilesToChart(response: AggregatesResponse | undefined, granularity: Granularity, tz: string): ChartData {
  const rows = (response?.rows ?? [])
    .filter((row) => !row.dimension_type || row.dimension_type === 'global' || row.dimension_type === 'none')
    .map((row) => ({ ...row, at: parseBucketTime(row.bucket_time, tz) }))
    .sort((a, b) => a.at - b.at);
  const pick = (value: number | null) => (value === null || Number.isNaN(Number(value)) ? 0 : Number(value));
  return {
    labels: rows.map((row) => formatBucket(row.at, granularity, tz)),
    keys: rows.map((row) => bucketKey(row.at, granularity, tz)),
    keyName: granularity === 'hour' ? 'Hour' : 'Date',
    unit: 'ms',
    instants: rows.map((row) => row.at),
    series: [
      { name: 'p50', values: rows.map((row) => pick(row.p50_value)), color: '#059669' },
      { name: 'p95', values: rows.map((row) => pick(row.p95_value)), color: '#d97706' },
      { name: 'p99', values: rows.map((row) => pick(row.p99_value)), color: '#dc2626' },
    ],
  };
}

/** Seed 002's parallel arrays (`timestamps` + values) as chart columns. */
export function timestampsToChart(
  timestamps: string[],
  series: { name: string; values: number[]; color?: string }[],
  granularity: Granularity,
  tz: string,
  unit: string,
): ChartData {
  const instants = timestamps.map((t) => parseBucketTime(t, tz));
  return {
    labels: instants.map((at) => formatBucket(at, granularity, tz)),
    keys: instants.map((at) => bucketKey(at, granularity, tz)),
    keyName: granularity === 'hour' ? 'Hour' : 'Date',
    unit,
    instants,
    series: series.map((s) => ({ ...s, values: timestamps.map((_, i) => Number(s.values[i]) || 0) })),
  };
}

/** A top-N list (`[{ name, value }]`) as a horizontal bar chart. */
export function rankingToChart(items: { name: string; value: number }[], keyName: string, seriesName: string, unit: string): ChartData {
  return {
    labels: items.map((item) => item.name),
    keys: items.map((item) => item.name),
    keyName,
    unit,
    series: [{ name: seriesName, values: items.map((item) => Number(item.value) || 0) }],
  };
}
