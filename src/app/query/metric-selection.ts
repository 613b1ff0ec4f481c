import { ValidationError } from '../../domain/errors.ts';
import { DEFAULT_GAUGE_CATEGORY, GAUGE_EVENT } from '../../domain/metrics/catalog.ts';
import type { MetricDefinition } from '../../domain/metrics/definition.ts';
import type { AppContext } from '../context.ts';

/**
 * Which metrics a query is about. Declared metrics (built-ins and config) are known up front;
 * gauges discovered from `gauge` events exist only as rollup names, so they are looked up
 * only when a requested name is not declared (the lookup scans the org's rollups).
 */

export function discoveredGauge(name: string): MetricDefinition {
  return {
    name,
    kind: 'gauge',
    event: GAUGE_EVENT,
    value: 'value',
    dimensions: [],
    unit: 'count',
    category: DEFAULT_GAUGE_CATEGORY,
    description: `Gauge "${name}": the last reading in each bucket`,
  };
}

/** Splits `metric=a,b&metric=c` into distinct names, in order. */
export function parseMetricNames(values: string | readonly string[] | undefined): string[] {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  const names = list.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  return [...new Set(names)];
}

export async function allMetrics(ctx: Pick<AppContext, 'rollupReader' | 'metrics'>, orgId: string): Promise<MetricDefinition[]> {
  const declared = new Set(ctx.metrics.map((m) => m.name));
  const discovered = (await ctx.rollupReader.rollupMetricNames(orgId)).filter((name) => !declared.has(name)).sort();
  return [...ctx.metrics, ...discovered.map(discoveredGauge)];
}

export interface MetricSelection {
  /** The metrics to answer for, in catalog order (or request order when named). */
  metrics: MetricDefinition[];
  /** True when the request named none: every metric, gauges found in the data included. */
  all: boolean;
}

/** Resolves requested names; an unknown name is a 400 listing the valid ones. */
export async function selectMetrics(
  ctx: Pick<AppContext, 'rollupReader' | 'metrics'>,
  orgId: string,
  requested: readonly string[],
  field = 'metric',
): Promise<MetricSelection> {
  if (requested.length === 0) return { metrics: [...ctx.metrics], all: true };
  const byName = new Map(ctx.metrics.map((m) => [m.name, m]));
  if (requested.some((name) => !byName.has(name))) {
    for (const metric of await allMetrics(ctx, orgId)) byName.set(metric.name, metric);
  }
  const unknown = requested.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    const valid = [...byName.keys()];
    throw new ValidationError(`${field}: unknown metric ${unknown.map((n) => `"${n}"`).join(', ')}; valid metrics: ${valid.join(', ')}`, [
      { field, message: `unknown metric ${unknown.join(', ')}; valid: ${valid.join(', ')}` },
    ]);
  }
  return { metrics: requested.map((name) => byName.get(name)!), all: false };
}

/** Narrows to metrics that have `dimension`; a 400 naming `dimension` when none does. */
export function requireDimension(metrics: readonly MetricDefinition[], dimension: string, field = 'dimension'): MetricDefinition[] {
  const having = metrics.filter((m) => m.dimensions.includes(dimension));
  if (having.length === 0) {
    const valid = [...new Set(metrics.flatMap((m) => m.dimensions))];
    const names = metrics.length === 1 ? `metric "${metrics[0]!.name}"` : 'the selected metrics';
    throw ValidationError.field(
      field,
      `"${dimension}" is not a dimension of ${names}; valid: ${valid.length > 0 ? valid.join(', ') : '(none)'}`,
    );
  }
  return having;
}
