import type { GoodDirection } from '../compare.ts';
import type { AttributeValue } from '../event.ts';

export type MetricKind = 'counter' | 'sum' | 'distribution' | 'unique' | 'gauge';

/** Attribute conditions of a metric's `where`: equality, membership, numeric comparison. */
export type Condition =
  | AttributeValue
  | { in?: AttributeValue[]; eq?: AttributeValue; ne?: AttributeValue; gte?: number; gt?: number; lte?: number; lt?: number };

/** A declarative metric (SPEC §2). Adding one is a config entry plus a backfill, never code. */
export interface MetricDefinition {
  name: string;
  /** Display name for people (dashboard, reports); says where the number comes from when two look alike. The name stays the API key. */
  label?: string;
  kind: MetricKind;
  /** Event type it reads (the first of `events` when it reads several). */
  event: string;
  /** Every event type it reads, when more than one (e.g. active users over three types). */
  events?: string[];
  where?: Record<string, Condition>;
  /** Attribute holding the value (sum, distribution, gauge; the counted attribute for unique). */
  value?: string;
  /** Attributes it may be broken down by; each gets its own rollup rows. */
  dimensions: string[];
  unit: string;
  category: string;
  description: string;
  /** Whether a rise is good news (`up`), bad news (`down`) or neither; absent means neutral. */
  good_direction?: GoodDirection;
  /** Per-metric change thresholds in percent, overriding the configured defaults. */
  warning_pct?: number;
  critical_pct?: number;
}

/** The name people read: the label when one is set, else the metric name. */
export function displayName(metric: Pick<MetricDefinition, 'name' | 'label'>): string {
  return metric.label ?? metric.name;
}

export function goodDirectionOf(metric: Pick<MetricDefinition, 'good_direction'>): GoodDirection {
  return metric.good_direction ?? 'neutral';
}

/** Seed 000's API vocabulary: counters stay `counter`, everything valued is `histogram`. */
export function apiMetricType(kind: MetricKind): 'counter' | 'histogram' {
  return kind === 'counter' ? 'counter' : 'histogram';
}

/** The event types a metric reads. */
export function metricEventTypes(definition: Pick<MetricDefinition, 'event' | 'events'>): readonly string[] {
  return definition.events ?? [definition.event];
}
