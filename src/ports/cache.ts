/**
 * Response cache. Keys already carry the org's data version, so a rollup rewrite makes
 * every older entry unreachable at once; TTL bounds entries touching the current bucket.
 * Values are bytes (an answer's UTF-8 JSON as it goes on the wire): a hit is written to the
 * socket as stored, with no text to re-encode or re-measure (ADR 0018). Callers must not
 * modify a value they got or gave. Implementations never throw on get/set: a failing backend
 * behaves as a miss and reports itself through `health()`.
 */
export interface Cache {
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlSeconds: number): Promise<void>;
  health(): Promise<'ok' | 'degraded'>;
  close(): Promise<void>;
}
