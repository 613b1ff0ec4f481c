import { describe, expect, it } from 'vitest';
import { canonicalQuery, catalogFingerprint, ttlSecondsFor } from '../../src/app/query/cached-query.ts';
import { buildCatalog } from '../../src/domain/metrics/catalog.ts';
import { formatInstant, formatLabel, localDaysIn, parseInstant, resolveRange } from '../../src/app/query/time-input.ts';
import { ValidationError } from '../../src/domain/errors.ts';

const iso = (ts: number) => new Date(ts).toISOString();
const DAY = 86_400_000;

describe('parseInstant', () => {
  it.each([
    ['2026-10-25T10:00:00Z', 'Europe/Zurich', '2026-10-25T10:00:00.000Z'],
    ['2026-10-25T10:00:00+05:30', 'UTC', '2026-10-25T04:30:00.000Z'],
    ['2026-10-25T10:00:00.250-04:00', 'UTC', '2026-10-25T14:00:00.250Z'],
    ['2026-10-25', 'Europe/Zurich', '2026-10-24T22:00:00.000Z'],
    ['2026-10-26', 'Europe/Zurich', '2026-10-25T23:00:00.000Z'],
    ['2026-10-25', 'Asia/Kolkata', '2026-10-24T18:30:00.000Z'],
    ['2026-07-01T12:30', 'America/New_York', '2026-07-01T16:30:00.000Z'],
    ['2026-07-01T12:30:15', 'UTC', '2026-07-01T12:30:15.000Z'],
    // The repeated 02:30 of 2026-10-25 in Zurich: the first occurrence (still summer time).
    ['2026-10-25T02:30', 'Europe/Zurich', '2026-10-25T00:30:00.000Z'],
    // 02:30 does not exist on 2026-03-29 in Zurich: the instant after the gap.
    ['2026-03-29T02:30', 'Europe/Zurich', '2026-03-29T01:30:00.000Z'],
  ])('%s in %s is %s', (text, zone, expected) => {
    expect(iso(parseInstant(text, zone, 'start').ts)).toBe(expected);
  });

  it.each(['yesterday', '2026-02-30', '2026-10-25T25:00', '2026/10/25', '', '2026-10-25T10:00:00+99'])('rejects %j naming the field', (text) => {
    expect(() => parseInstant(text, 'UTC', 'end_date')).toThrow(ValidationError);
    expect(() => parseInstant(text, 'UTC', 'end_date')).toThrow(/end_date/);
  });
});

describe('resolveRange', () => {
  const rules = { zone: 'Europe/Zurich', now: Date.parse('2026-11-20T12:00:00Z'), defaultSpanMs: 7 * DAY, maxSpanDays: 365, startField: 'start', endField: 'end' };

  it('defaults to the span before now', () => {
    const range = resolveRange({}, rules);
    expect([iso(range.start), iso(range.end), range.endIsNow, range.startIsDefault]).toEqual(['2026-11-13T12:00:00.000Z', '2026-11-20T12:00:00.000Z', true, true]);
  });

  it('reads a bare end date as inclusive only when asked to (seed 000 parameters)', () => {
    expect(iso(resolveRange({ start: '2026-10-25', end: '2026-10-25' }, rules).end)).toBe('2026-10-24T22:00:00.000Z');
    expect(iso(resolveRange({ start: '2026-10-25', end: '2026-10-25' }, { ...rules, dateOnlyEndIsInclusive: true }).end)).toBe('2026-10-25T23:00:00.000Z');
  });

  it('allows a range of exactly the maximum across a daylight-saving change, not a day more', () => {
    expect(() => resolveRange({ start: '2025-11-01', end: '2026-11-01' }, rules)).not.toThrow();
    expect(() => resolveRange({ start: '2025-11-01', end: '2026-11-02' }, rules)).toThrow(/end: the range may span at most 365 days/);
    expect(() => resolveRange({ start: '2025-11-01', end: '2026-11-01' }, { ...rules, dateOnlyEndIsInclusive: true })).not.toThrow();
  });

  it('rejects a start after the end, naming the start', () => {
    expect(() => resolveRange({ start: '2026-10-02', end: '2026-10-01' }, rules)).toThrow(/^start: must not be after end$/);
  });
});

describe('formatting', () => {
  it.each([
    [Date.parse('2026-10-24T22:00:00Z'), 'Europe/Zurich', '2026-10-25T00:00:00+02:00'],
    [Date.parse('2026-10-25T01:00:00Z'), 'Europe/Zurich', '2026-10-25T02:00:00+01:00'],
    [Date.parse('2026-10-25T01:00:00Z'), 'UTC', '2026-10-25T01:00:00Z'],
    [Date.parse('2026-10-25T01:00:00Z'), 'America/St_Johns', '2026-10-24T22:30:00-02:30'],
    [Date.parse('2026-10-25T01:00:00Z'), 'Asia/Kathmandu', '2026-10-25T06:45:00+05:45'],
  ])('formatInstant(%i, %s) = %s', (ts, zone, expected) => {
    expect(formatInstant(ts, zone)).toBe(expected);
  });

  it('labels axes like seed 002 and counts local days', () => {
    expect(formatLabel(Date.parse('2026-10-25T01:00:00Z'), 'hour', 'Europe/Zurich')).toBe('2026-10-25T02:00');
    expect(formatLabel(Date.parse('2026-10-24T22:00:00Z'), 'day', 'Europe/Zurich')).toBe('2026-10-25');
    expect(localDaysIn(Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z'), 'Europe/Zurich')).toBe(1);
    expect(localDaysIn(Date.parse('2026-10-24T12:00:00Z'), Date.parse('2026-10-26T01:00:00Z'), 'Europe/Zurich')).toBe(3);
    expect(localDaysIn(5, 5, 'UTC')).toBe(0);
  });
});

describe('cache keys and lifetimes', () => {
  it('normalizes key order and keeps distinct queries distinct', () => {
    expect(canonicalQuery({ b: 2, a: 'x', c: undefined })).toBe(canonicalQuery({ a: 'x', b: 2 }));
    expect(canonicalQuery({ metric: ['a,b'] })).not.toBe(canonicalQuery({ metric: ['a', 'b'] }));
    expect(canonicalQuery({ project: 'x&tag=y' })).not.toBe(canonicalQuery({ project: 'x', tag: 'y' }));
    expect(canonicalQuery({ tag: '' })).not.toBe(canonicalQuery({}));
    expect(canonicalQuery({ project: null })).not.toBe(canonicalQuery({ project: 'null' }));
  });

  it('gives at most 30 s to answers reaching into the current hour', () => {
    const now = Date.parse('2026-11-20T12:34:00Z');
    expect(ttlSecondsFor({ end: null, storageZone: 'UTC' }, now)).toBe(30);
    expect(ttlSecondsFor({ end: Date.parse('2026-11-20T12:00:01Z'), storageZone: 'UTC' }, now)).toBe(30);
    expect(ttlSecondsFor({ end: Date.parse('2026-11-21T00:00:00Z'), storageZone: 'UTC' }, now)).toBe(30);
    expect(ttlSecondsFor({ end: Date.parse('2026-11-20T12:00:00Z'), storageZone: 'UTC' }, now)).toBeGreaterThan(30);
    // In Kolkata the current hour began at 12:30 UTC.
    expect(ttlSecondsFor({ end: Date.parse('2026-11-20T12:20:00Z'), storageZone: 'Asia/Kolkata' }, now)).toBeGreaterThan(30);
  });

  it('fingerprints the metric catalog, so a changed definition never meets old entries', () => {
    const builtIn = buildCatalog([]);
    const custom = buildCatalog([{ name: 'x.count', kind: 'counter', event: 'x', dimensions: [], unit: 'count', category: 'custom', description: '' }]);
    const edited = buildCatalog([{ name: 'x.count', kind: 'counter', event: 'x', where: { ok: true }, dimensions: [], unit: 'count', category: 'custom', description: '' }]);
    expect(catalogFingerprint(builtIn)).toBe(catalogFingerprint(buildCatalog([])));
    expect(new Set([catalogFingerprint(builtIn), catalogFingerprint(custom), catalogFingerprint(edited)]).size).toBe(3);
  });
});
