import { toCsv } from '../lib/csv.ts';
import { formatValue } from '../lib/format.ts';

/** What a chart shows, kept apart from how it is drawn: the table and CSV read the same data. */
export interface ChartData {
  /** Axis labels (formatted in the selected zone). */
  labels: string[];
  /** Unambiguous row names for the table and CSV (local date/time, or the category itself). */
  keys: string[];
  /** Header of the key column. */
  keyName: string;
  /** `axis: 1`: drawn on a second value axis (a small count next to a large one stays readable). */
  series: { name: string; values: number[]; color?: string; axis?: 0 | 1 }[];
  /** Bucket start instants, when the keys are time buckets (drill-down reads them). */
  instants?: number[];
  /** One unit per chart: counts and dollars never share an axis. */
  unit: string;
}

export function chartCsv(data: ChartData, extraColumns?: { name: string; values: string[] }): string {
  const header = [data.keyName, ...(extraColumns ? [extraColumns.name] : []), ...data.series.map((s) => s.name)];
  const rows = data.keys.map((key, index) => [
    key,
    ...(extraColumns ? [extraColumns.values[index] ?? ''] : []),
    ...data.series.map((s) => s.values[index] ?? 0),
  ]);
  return toCsv(header, rows);
}

export function isEmptyChart(data: ChartData): boolean {
  return data.series.every((s) => s.values.every((v) => !v));
}

/** The aria-label: what is plotted and its headline figures, since a canvas says nothing. */
export function describeChart(title: string, data: ChartData): string {
  if (data.keys.length === 0 || data.series.length === 0) return `${title}: no data.`;
  const parts = data.series.map((s) => {
    const total = s.values.reduce((sum, v) => sum + v, 0);
    // Latencies do not add up; their mean is the meaningful headline.
    const headline = data.unit === 'ms' ? `average ${formatValue(total / Math.max(1, s.values.length), data.unit)}` : `total ${formatValue(total, data.unit)}`;
    let peakIndex = 0;
    s.values.forEach((v, i) => {
      if (v > (s.values[peakIndex] ?? 0)) peakIndex = i;
    });
    return `${s.name} ${headline}, highest ${formatValue(s.values[peakIndex] ?? 0, data.unit)} at ${data.keys[peakIndex] ?? ''}`;
  });
  return `${title}, ${data.keys.length} points from ${data.keys[0]} to ${data.keys[data.keys.length - 1]}: ${parts.join('; ')}.`;
}
