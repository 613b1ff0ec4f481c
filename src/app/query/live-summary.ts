import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { parseMetricNames, selectMetrics } from './metric-selection.ts';
import { resolveScope, scopeKey } from './scope.ts';
import { computeSummary, type QueryOptions, type SummaryInput } from './summary.ts';

/**
 * `live-summary`: the summary shape computed from raw events only, through the evaluation
 * code the aggregator uses, so it shows events the aggregator has not reached yet.
 */
export async function liveSummary(ctx: QueryDeps, input: Omit<SummaryInput, 'source'>, options: QueryOptions = {}): Promise<CachedJson> {
  const scope = await resolveScope(ctx, input, options);
  const selection = await selectMetrics(ctx, scope.org.id, parseMetricNames(input.metric), options.metricField);
  const pieces = scope.start < scope.end ? [{ kind: 'raw' as const, from: scope.start, to: scope.end }] : [];
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'live-summary',
      query: { ...scopeKey(scope), metric: selection.all ? null : selection.metrics.map((m) => m.name) },
      // Raw events change with every ingest, not only with aggregation: always the short TTL.
      end: null,
      storageZone: scope.storageZone,
      refresh: input.refresh,
    },
    () => computeSummary(ctx, scope, selection, { source: 'live', pieces }),
  );
}
