import type { CatalogMetric } from '../api/queries.ts';
import { humanizeMetric } from '../lib/format.ts';

/** What people read about a metric: its display name and what it counts (from GET …/metrics). */
export interface MetricInfo {
  label: string;
  description: string;
  /** The attribute it reads (sums, distributions), shown beside each event in the drill-down. */
  value: string | null;
}

export type MetricInfoMap = ReadonlyMap<string, MetricInfo>;

export function metricInfoMap(catalog: readonly CatalogMetric[] | undefined): MetricInfoMap {
  return new Map((catalog ?? []).map((metric) => [metric.name, { label: metric.label || humanizeMetric(metric.name), description: metric.description, value: metric.kind === 'counter' ? null : metric.value }]));
}

/** The catalog's label and description; before the catalog answers (or for an unknown name), a readable name. */
export function metricInfo(map: MetricInfoMap | undefined, name: string): MetricInfo {
  return map?.get(name) ?? { label: humanizeMetric(name), description: '', value: null };
}
