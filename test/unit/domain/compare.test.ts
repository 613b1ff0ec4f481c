import { describe, expect, it } from 'vitest';
import { compareValues, DEFAULT_THRESHOLDS, levelFor, policyFor, toneFor } from '../../../src/domain/compare.ts';

describe('compareValues (seed 004 get_change)', () => {
  it.each([
    // current, previous, change, change_pct, direction, level
    [110, 100, 10, 10, 1, 'warning'],
    [109.9, 100, 9.9, 9.9, 1, 'ok'],
    [125, 100, 25, 25, 1, 'critical'],
    [75, 100, -25, -25, -1, 'critical'],
    [80, 100, -20, -20, -1, 'warning'],
    [100, 100, 0, 0, 0, 'ok'],
    [1, 3, -2, -66.7, -1, 'critical'],
    [0.3, 0.1, 0.2, 200, 1, 'critical'],
    [-50, -100, 50, 50, 1, 'critical'],
    [5, 0, 5, null, 1, 'ok'],
    [0, 0, 0, null, 0, 'ok'],
  ] as const)('%d against %d', (current, previous, change, pct, direction, level) => {
    expect(compareValues(current, previous)).toEqual({ previous, change, change_pct: pct, direction, level, tone: 'neutral' });
  });

  it('has nothing to compare without a previous value', () => {
    for (const previous of [null, undefined]) {
      expect(compareValues(42, previous)).toEqual({ previous: null, change: null, change_pct: null, direction: 0, level: 'ok', tone: 'neutral' });
    }
  });

  it('uses per-metric thresholds when given', () => {
    expect(compareValues(104, 100, { thresholds: { warningPct: 3, criticalPct: 5 } }).level).toBe('warning');
    expect(compareValues(105, 100, { thresholds: { warningPct: 3, criticalPct: 5 } }).level).toBe('critical');
    expect(compareValues(104, 100).level).toBe('ok');
  });

  it('judges the level on the unrounded percentage', () => {
    // 9.96 % rounds to 10.0 for display but is below the 10 % warning threshold.
    const result = compareValues(109.96, 100);
    expect(result.change_pct).toBe(10);
    expect(result.level).toBe('ok');
  });

  it('defaults to 10 % warning and 25 % critical', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ warningPct: 10, criticalPct: 25 });
    expect(levelFor(null)).toBe('ok');
    expect(levelFor(-10)).toBe('warning');
    expect(levelFor(24.99)).toBe('warning');
  });
});

describe('good direction', () => {
  it('colours a change by whether the metric moved its good way, independently of the level', () => {
    // Errors +131 %: critical and bad; failed pages −50 %: critical and good.
    expect(compareValues(231, 100, { goodDirection: 'down' })).toMatchObject({ direction: 1, level: 'critical', tone: 'bad' });
    expect(compareValues(50, 100, { goodDirection: 'down' })).toMatchObject({ direction: -1, level: 'critical', tone: 'good' });
    expect(compareValues(150, 100, { goodDirection: 'up' })).toMatchObject({ direction: 1, tone: 'good' });
    expect(compareValues(50, 100, { goodDirection: 'up' })).toMatchObject({ direction: -1, tone: 'bad' });
    expect(compareValues(150, 100, { goodDirection: 'neutral' }).tone).toBe('neutral');
    expect(compareValues(100, 100, { goodDirection: 'up' }).tone).toBe('neutral');
    expect(toneFor(0, 'down')).toBe('neutral');
  });

  it('takes thresholds and direction from the config override, then the metric, then the defaults', () => {
    const settings = { defaults: { warningPct: 5, criticalPct: 50 }, metrics: { pages: { criticalPct: 20, goodDirection: 'down' as const } } };
    expect(policyFor({ name: 'pages', good_direction: 'up', warning_pct: 1 }, settings)).toEqual({
      goodDirection: 'down',
      thresholds: { warningPct: 1, criticalPct: 20 },
    });
    expect(policyFor({ name: 'other' }, settings)).toEqual({ goodDirection: 'neutral', thresholds: { warningPct: 5, criticalPct: 50 } });
    expect(policyFor({ name: 'other', good_direction: 'up' })).toEqual({ goodDirection: 'up', thresholds: DEFAULT_THRESHOLDS });
  });
});
