/**
 * When to try a batch again and after how long. Pure: the caller passes the clock reading and
 * the random source, so the schedule is testable.
 */

export interface RetryPolicy {
  /** Tries per batch, the first included. */
  maxAttempts: number;
  /** First backoff ceiling; doubles per attempt. */
  baseDelayMs: number;
  /** Ceiling of the exponential backoff. */
  maxDelayMs: number;
  /** A Retry-After beyond this is cut to it (a misconfigured proxy must not park the client for a day). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 250, maxDelayMs: 30_000, maxRetryAfterMs: 300_000 };

/** Statuses that say "later": rate limited, or the server (or a proxy before it) is unavailable. */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined || header.trim() === '') return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 0). Without Retry-After: "full
 * jitter" — uniform in [0, min(max, base·2^attempt)) — so clients that failed together do not
 * come back together. With Retry-After: at least what the server asked, plus up to 10 % jitter.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | null, random: () => number): number {
  if (retryAfterMs !== null) {
    const asked = Math.min(retryAfterMs, policy.maxRetryAfterMs);
    return Math.round(asked + asked * 0.1 * random());
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * random());
}
