import { policyFor, type GoodDirection } from '../../domain/compare.ts';
import { apiMetricType, displayName, metricEventTypes, type MetricDefinition } from '../../domain/metrics/definition.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { allMetrics } from './metric-selection.ts';
import { loadOrganization } from './scope.ts';

/** `metrics`: the catalog an organization can query, gauges discovered in its data included. */

export interface CatalogEntry {
  name: string;
  /** Display name (the name when the definition has no label). */
  label: string;
  kind: MetricDefinition['kind'];
  metric_type: 'counter' | 'histogram';
  event: string;
  /** Every event type it reads (one, or several for e.g. active_users). */
  events: string[];
  unit: string;
  category: string;
  description: string;
  dimensions: string[];
  value: string | null;
  where: MetricDefinition['where'] | null;
  good_direction: GoodDirection;
}

export async function metricsCatalog(ctx: QueryDeps, input: { orgId: string; refresh?: boolean | undefined }): Promise<CachedJson> {
  const org = await loadOrganization(ctx, input.orgId);
  return cachedJson(
    ctx,
    { orgId: org.id, endpoint: 'metrics', query: {}, end: 0, storageZone: org.timezone, refresh: input.refresh },
    async () => ({
      metrics: (await allMetrics(ctx, org.id)).map(
        (metric): CatalogEntry => ({
          name: metric.name,
          label: displayName(metric),
          kind: metric.kind,
          metric_type: apiMetricType(metric.kind),
          event: metric.event,
          events: [...metricEventTypes(metric)],
          unit: metric.unit,
          category: metric.category,
          description: metric.description,
          dimensions: [...metric.dimensions],
          value: metric.value ?? null,
          where: metric.where ?? null,
          good_direction: policyFor(metric, ctx.config.compare).goodDirection,
        }),
      ),
    }),
  );
}
