import { describe, expect, test } from 'vitest';
import { DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter, retryDelayMs } from '../../src/client/retry-policy.ts';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  test.each([
    ['120', 120_000],
    ['0', 0],
    ['1.5', 1_500],
    ['Tue, 01 Jan 2030 12:00:30 GMT', 30_000],
    ['Tue, 01 Jan 2030 11:00:00 GMT', 0],
    ['soon', null],
    ['', null],
    [null, null],
  ])('%s → %s ms', (header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });
});

describe('retryDelayMs', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 60_000 };
  test.each([
    [0, 0.999, 100],
    [3, 0.999, 799],
    [10, 0.999, 999],
    [10, 0, 0],
  ])('attempt %i with random %f stays under the doubling ceiling', (attempt, random, expected) => {
    expect(retryDelayMs(policy, attempt, null, () => random)).toBe(expected);
  });

  test('Retry-After is a floor with at most 10 % jitter, capped by maxRetryAfterMs', () => {
    expect(retryDelayMs(policy, 0, 2_000, () => 0)).toBe(2_000);
    expect(retryDelayMs(policy, 0, 2_000, () => 1)).toBe(2_200);
    expect(retryDelayMs(policy, 0, 3_600_000, () => 0)).toBe(60_000);
  });

  test('only "later" statuses are retried', () => {
    expect([408, 429, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 415, 500].some(isRetryableStatus)).toBe(false);
  });
});
