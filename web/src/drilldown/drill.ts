import type { ChartData } from '../charts/chart-data.ts';
import type { TimeRange } from '../lib/time.ts';
import type { DrillTarget } from './EventsPanel.tsx';

/** Opens the drill-down panel on a target (the Overview owns the one panel). */
export type OpenDrill = (target: DrillTarget) => void;

/** [start, end) of a chart's bucket, cut to the range and to "now". */
export function bucketBounds(data: ChartData, range: TimeRange, index: number): { start: number; end: number } {
  const instants = data.instants ?? [];
  const start = Math.max(range.start, instants[index] ?? range.start);
  const end = Math.min(range.dataEnd, instants[index + 1] ?? range.end);
  return { start, end: Math.max(start + 1, end) };
}

/** The whole range (a ranking bar: top models, status codes, countries). */
export function rangeBounds(range: TimeRange): { start: number; end: number } {
  return { start: range.start, end: Math.max(range.start + 1, range.dataEnd) };
}
