/**
 * Response cache. Keys already carry the org's data version, so a rollup rewrite makes
 * every older entry unreachable at once; TTL bounds entries touching the current bucket.
 * Implementations never throw on get/set: a failing backend behaves as a miss and reports
 * itself through `health()`.
 */
export interface Cache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  health(): Promise<'ok' | 'degraded'>;
  close(): Promise<void>;
}
