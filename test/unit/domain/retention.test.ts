import { describe, expect, it } from 'vitest';
import { canRebuild, isExpired, retentionCutoffs, type RetentionConfig } from '../../../src/domain/retention.ts';

const DAY = 86_400_000;
const DEFAULTS: RetentionConfig = { rawMs: 90 * DAY, hourMs: 30 * DAY, dayMs: 400 * DAY, weekMs: null, monthMs: null };
const now = Date.parse('2026-06-15T10:37:12.345Z');

describe('retentionCutoffs', () => {
  it('keeps raw events for exactly rawMs and aligns rollup cutoffs to bucket starts', () => {
    const cutoffs = retentionCutoffs(now, DEFAULTS);
    expect(cutoffs).toEqual({
      raw: now - 90 * DAY,
      hour: Date.parse('2026-05-16T10:00:00Z'),
      day: Date.parse('2025-05-11T00:00:00Z'),
      week: null,
      month: null,
    });
  });

  it('aligns to bucket starts in the organization zone', () => {
    const cutoffs = retentionCutoffs(now, { ...DEFAULTS, weekMs: 10 * 7 * DAY, monthMs: 365 * DAY }, 'Asia/Kolkata');
    expect(new Date(cutoffs.hour as number).toISOString()).toBe('2026-05-16T10:30:00.000Z');
    expect(new Date(cutoffs.day as number).toISOString()).toBe('2025-05-10T18:30:00.000Z');
    // 2026-04-06 (10 weeks back) is a Monday in Kolkata.
    expect(new Date(cutoffs.week as number).toISOString()).toBe('2026-04-05T18:30:00.000Z');
    expect(new Date(cutoffs.month as number).toISOString()).toBe('2025-05-31T18:30:00.000Z');
  });

  it('never expires a bucket that still holds data inside its retention', () => {
    const cutoffs = retentionCutoffs(now, DEFAULTS);
    const oldestKeptInstant = now - DEFAULTS.hourMs;
    const bucketHoldingIt = Date.parse('2026-05-16T10:00:00Z');
    expect(bucketHoldingIt).toBeLessThanOrEqual(oldestKeptInstant);
    expect(isExpired(bucketHoldingIt, 'hour', cutoffs)).toBe(false);
    expect(isExpired(bucketHoldingIt - 3_600_000, 'hour', cutoffs)).toBe(true);
  });

  it('expires nothing in a tier kept forever', () => {
    const cutoffs = retentionCutoffs(now, DEFAULTS);
    expect(isExpired(Date.UTC(1970, 0, 1), 'month', cutoffs)).toBe(false);
    expect(isExpired(Date.UTC(1970, 0, 1), 'week', cutoffs)).toBe(false);
    expect(isExpired(now - 91 * DAY, 'raw', cutoffs)).toBe(true);
    expect(isExpired(now - 89 * DAY, 'raw', cutoffs)).toBe(false);
  });
});

describe('canRebuild', () => {
  const cutoffs = retentionCutoffs(now, DEFAULTS);
  it('rebuilds hours only while all their raw events are kept', () => {
    expect(canRebuild(Date.parse('2026-03-17T10:00:00Z'), 'hour', cutoffs)).toBe(false); // holds the raw cutoff
    expect(canRebuild(Date.parse('2026-03-17T11:00:00Z'), 'hour', cutoffs)).toBe(true);
  });

  it('rebuilds days only while all their hours are kept, weeks and months from days', () => {
    expect(canRebuild(Date.parse('2026-05-16T00:00:00Z'), 'day', cutoffs)).toBe(false);
    expect(canRebuild(Date.parse('2026-05-17T00:00:00Z'), 'day', cutoffs)).toBe(true);
    expect(canRebuild(Date.parse('2026-05-01T00:00:00Z'), 'month', cutoffs)).toBe(true);
    expect(canRebuild(Date.parse('2025-05-01T00:00:00Z'), 'month', cutoffs)).toBe(false);
    expect(canRebuild(Date.parse('2025-05-12T00:00:00Z'), 'week', cutoffs)).toBe(true);
  });
});
