import { planSeries, type SeriesPlan } from '../../domain/query-plan.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { computeSeries, prepareSeries, type SeriesInput, type SeriesOptions } from './series.ts';

/** `live-series`: the series shape from raw events only, plus `partial_errors` (seed 000). */

/** Same points as a stored plan, each answered by one raw piece. */
export function rawSeriesPlan(plan: SeriesPlan): SeriesPlan {
  return {
    ...plan,
    buckets: plan.buckets.map((bucket) => ({ ...bucket, pieces: [{ kind: 'raw' as const, from: bucket.start, to: bucket.end }] })),
  };
}

export async function liveSeries(ctx: QueryDeps, input: Omit<SeriesInput, 'source'>, options: SeriesOptions = {}): Promise<CachedJson> {
  const { scope, request, cacheQuery } = await prepareSeries(ctx, input, options);
  return cachedJson(
    ctx,
    { orgId: scope.org.id, endpoint: 'live-series', query: cacheQuery, end: null, storageZone: scope.storageZone, refresh: input.refresh },
    async () => {
      const plan = planSeries({
        start: scope.start,
        end: scope.end,
        granularity: request.granularity,
        queryZone: scope.zone,
        storageZone: scope.storageZone,
        source: 'hourly',
      });
      const response = await computeSeries(ctx, scope, request, rawSeriesPlan(plan), 'live');
      // One evaluation pass covers every metric, so no metric can fail alone.
      return { ...response, partial_errors: [] as string[] };
    },
  );
}
