import { floorBucket } from '../../domain/time-buckets.ts';
import type { AppContext } from '../context.ts';

/**
 * Whole-response caching for query endpoints. The key holds the organization, its data
 * version (bumped by every rollup rewrite), the endpoint and the normalized query, so a
 * re-aggregated bucket makes every older entry unreachable at once; entries never need
 * deleting. Answers that reach into the current hour, still filling up, live at most 30 s.
 */

export const CURRENT_HOUR_TTL_SECONDS = 30;
export const HISTORICAL_TTL_SECONDS = 6 * 3600;

type QueryValue = string | number | boolean | null | undefined | readonly string[];

export interface CachedQuerySpec {
  orgId: string;
  endpoint: string;
  /** Everything that changes the answer, already normalized (resolved instants, sorted lists). */
  query: Record<string, QueryValue>;
  /** Latest instant the answer covers (exclusive); `null` when it follows "now". */
  end: number | null;
  /** Zone whose hour is "the current hour" (the organization's). */
  storageZone: string;
  /** `refresh=true`: recompute and overwrite. */
  refresh?: boolean;
}

export interface CachedJson {
  json: string;
  hit: boolean;
}

/** Stable text for a query: keys sorted, values encoded so no two queries share a key. */
export function canonicalQuery(query: Record<string, QueryValue>): string {
  return Object.keys(query)
    .filter((key) => query[key] !== undefined)
    .sort()
    .map((key) => {
      const value = query[key];
      const text = Array.isArray(value) ? value.map((v) => encodeURIComponent(v)).join(',') : encodeURIComponent(String(value));
      return `${encodeURIComponent(key)}=${text}`;
    })
    .join('&');
}

export function ttlSecondsFor(spec: Pick<CachedQuerySpec, 'end' | 'storageZone'>, now: number): number {
  if (spec.end === null) return CURRENT_HOUR_TTL_SECONDS;
  const currentHour = floorBucket(now, 'hour', spec.storageZone);
  return spec.end > currentHour ? CURRENT_HOUR_TTL_SECONDS : HISTORICAL_TTL_SECONDS;
}

export async function cachedJson(ctx: AppContext, spec: CachedQuerySpec, compute: () => Promise<unknown>): Promise<CachedJson> {
  const version = await ctx.storage.getDataVersion(spec.orgId);
  const key = `mb:q1:${spec.orgId}:${version}:${spec.endpoint}:${canonicalQuery(spec.query)}`;
  if (!spec.refresh) {
    const cached = await safely(ctx, () => ctx.cache.get(key));
    if (cached !== undefined) return { json: cached, hit: true };
  }
  const json = JSON.stringify(await compute());
  await safely(ctx, () => ctx.cache.set(key, json, ttlSecondsFor(spec, ctx.clock.now())));
  return { json, hit: false };
}

/** The Cache port promises never to throw; should an adapter break that promise, a query still answers. */
async function safely<T>(ctx: AppContext, operation: () => Promise<T>): Promise<T | undefined> {
  try {
    return await operation();
  } catch (error) {
    ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cache operation failed; treated as a miss');
    return undefined;
  }
}
