import type { MetricDefinition } from '../../domain/metrics/definition.ts';
import type { Organization } from '../../domain/organization.ts';
import { MAX_RESPONSE_BYTES, responseTooLarge } from '../../domain/response-cap.ts';
import { floorBucket } from '../../domain/time-buckets.ts';
import type { AppContext } from '../context.ts';
import { stringifyWithoutFloatNoise } from './json-numbers.ts';

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
  /** The organization's data version, when already being read (see `prefetchOrgAndVersion`). */
  version?: Promise<number>;
}

export interface CachedJson {
  /**
   * The answer's JSON as UTF-8 bytes, the same on a hit as on the miss that stored it. Sent
   * as they are: re-encoding a 92 KiB text per hit was most of a hit's allocation (ADR 0018).
   */
  body: Buffer;
  hit: boolean;
}

/** The answer's JSON parsed, for callers that reshape or convert it (CSV, reports, aliases). */
export function parseAnswer<T>(answer: CachedJson): T {
  return JSON.parse(answer.body.toString('utf8')) as T;
}

/**
 * Stable text for a query: keys sorted, values percent-encoded so no two queries share a
 * key. `null` is the bare key and a list is bracketed; encoded text never holds a bare `[`.
 */
export function canonicalQuery(query: Record<string, QueryValue>): string {
  return Object.keys(query)
    .filter((key) => query[key] !== undefined)
    .sort()
    .map((key) => {
      const value = query[key];
      const name = encodeURIComponent(key);
      if (value === null) return name;
      if (Array.isArray(value)) return `${name}=[${value.map((v) => encodeURIComponent(v)).join(',')}]`;
      return `${name}=${encodeURIComponent(String(value))}`;
    })
    .join('&');
}

export function ttlSecondsFor(spec: Pick<CachedQuerySpec, 'end' | 'storageZone'>, now: number): number {
  if (spec.end === null) return CURRENT_HOUR_TTL_SECONDS;
  const currentHour = floorBucket(now, 'hour', spec.storageZone);
  return spec.end > currentHour ? CURRENT_HOUR_TTL_SECONDS : HISTORICAL_TTL_SECONDS;
}

const fingerprints = new WeakMap<readonly MetricDefinition[], string>();

/**
 * A short hash of the metric catalog: a changed definition (a config edit and restart) must
 * not be answered from entries a shared Redis still holds for the old one.
 */
export function catalogFingerprint(metrics: readonly MetricDefinition[]): string {
  let fingerprint = fingerprints.get(metrics);
  if (fingerprint === undefined) {
    let hash = 0x811c9dc5;
    const text = JSON.stringify(metrics);
    for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    fingerprint = hash.toString(36);
    fingerprints.set(metrics, fingerprint);
  }
  return fingerprint;
}

export interface OrgPrefetch {
  /** For `loadOrganization` / `resolveScope`: null when the organization does not exist. */
  org: Promise<Organization | null>;
  /** For `CachedQuerySpec.version`. */
  version: Promise<number>;
}

/**
 * Reads the organization and its data version in one statement, at once: a cache hit then
 * costs one database round trip plus the cache read. They used to be two concurrent reads,
 * which on PostgreSQL were two statements and two backends woken per hit (ADR 0018). The
 * version is read when the request is handled, as before, so freshness is ADR 0003's.
 */
export function prefetchOrgAndVersion(ctx: Pick<AppContext, 'dataVersions'>, orgId: string): OrgPrefetch {
  const both = ctx.dataVersions.getOrgAndDataVersion(orgId);
  const version = both.then((found) => found?.dataVersion ?? 0);
  // An unknown organization (or a failed read) fails its lookup first; the version is then never awaited.
  version.catch(() => undefined);
  return { org: both.then((found) => found?.org ?? null), version };
}

export async function cachedJson(ctx: Pick<AppContext, 'cache' | 'clock' | 'dataVersions' | 'log' | 'metrics'>, spec: CachedQuerySpec, compute: () => Promise<unknown>): Promise<CachedJson> {
  const version = await (spec.version ?? ctx.dataVersions.getDataVersion(spec.orgId));
  const key = `mb:q1:${spec.orgId}:${version}:${catalogFingerprint(ctx.metrics)}:${spec.endpoint}:${canonicalQuery(spec.query)}`;
  if (!spec.refresh) {
    const cached = await safely(ctx, () => ctx.cache.get(key));
    if (cached !== undefined) return { body: cached, hit: true };
  }
  const json = stringifyWithoutFloatNoise(await compute());
  checkResponseBytes(json);
  // Encoded once here: the socket would encode the text anyway, and every hit reuses these bytes.
  const body = Buffer.from(json, 'utf8');
  await safely(ctx, () => ctx.cache.set(key, body, ttlSecondsFor(spec, ctx.clock.now())));
  return { body, hit: false };
}

const NARROWING_HINT = 'a shorter range, fewer metrics, a coarser granularity or a lower limit';

/** The byte cap's backstop (domain/response-cap.ts); an answer over it is neither sent nor cached. */
export function checkResponseBytes(text: string, hint = NARROWING_HINT): void {
  // A UTF-16 unit is at most 3 bytes of UTF-8: most answers need no byte count at all.
  if (text.length * 3 <= MAX_RESPONSE_BYTES) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_RESPONSE_BYTES) throw responseTooLarge(bytes, hint);
}

/** The Cache port promises never to throw; should an adapter break that promise, a query still answers. */
async function safely<T>(ctx: Pick<AppContext, 'cache' | 'clock' | 'dataVersions' | 'log' | 'metrics'>, operation: () => Promise<T>): Promise<T | undefined> {
  try {
    return await operation();
  } catch (error) {
    ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cache operation failed; treated as a miss');
    return undefined;
  }
}
