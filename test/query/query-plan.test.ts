import { describe, expect, it } from 'vitest';
import {
  fetchRanges,
  planRange,
  planSeries,
  planTotal,
  planTotalCoarsest,
  settledEnd,
  resolveSource,
  seriesPieces,
  tiersForSource,
  type PlanPiece,
} from '../../src/domain/query-plan.ts';
import { floorBucket, nextBucket } from '../../src/domain/time-buckets.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const utc = (iso: string) => Date.parse(iso);
const show = (pieces: PlanPiece[]) =>
  pieces.map((p) => [p.kind === 'raw' ? 'raw' : p.granularity, new Date(p.from).toISOString(), new Date(p.to).toISOString()]);

/** Invariants every plan must satisfy: contiguous exact cover, aligned rollup pieces, raw pieces without a whole hour. */
function expectExactCover(pieces: PlanPiece[], start: number, end: number, zone: string, rawMayHoldHours = false): void {
  let cursor = start;
  for (const piece of pieces) {
    expect(piece.from).toBe(cursor);
    expect(piece.to).toBeGreaterThan(piece.from);
    if (piece.kind === 'rollup') {
      expect(floorBucket(piece.from, piece.granularity, zone)).toBe(piece.from);
      expect(floorBucket(piece.to, piece.granularity, zone)).toBe(piece.to);
    } else if (!rawMayHoldHours) {
      const firstWholeHour = floorBucket(piece.from, 'hour', zone) === piece.from ? piece.from : nextBucket(floorBucket(piece.from, 'hour', zone), 'hour', zone);
      expect(nextBucket(firstWholeHour, 'hour', zone)).toBeGreaterThan(piece.to);
    }
    cursor = piece.to;
  }
  expect(cursor).toBe(start < end ? end : start);
}

describe('resolveSource (SPEC §4 auto)', () => {
  const start = utc('2026-01-01T00:00:00Z');
  it.each([
    [7 * DAY, 'hourly'],
    [7 * DAY + 1, 'daily'],
    [90 * DAY, 'daily'],
    [90 * DAY + 1, 'monthly'],
    [HOUR, 'hourly'],
  ] as const)('a span of %i ms reads %s rollups', (span, expected) => {
    expect(resolveSource('auto', start, start + span)).toBe(expected);
  });
  it('keeps a forced source', () => {
    expect(resolveSource('monthly', start, start + HOUR)).toBe('monthly');
    expect(resolveSource('hourly', start, start + 400 * DAY)).toBe('hourly');
  });
});

describe('planRange', () => {
  const cases: Array<{ name: string; zone: string; start: string; end: string; tiers: ReturnType<typeof tiersForSource>; expected: Array<[string, string, string]> }> = [
    {
      name: 'whole months only',
      zone: 'UTC',
      start: '2026-01-01T00:00:00Z',
      end: '2026-04-01T00:00:00Z',
      tiers: tiersForSource('monthly'),
      expected: [['month', '2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']],
    },
    {
      name: 'mid-hour edges descend month → day → hour → raw on both sides',
      zone: 'UTC',
      start: '2026-01-15T10:30:00Z',
      end: '2026-03-10T05:45:00Z',
      tiers: tiersForSource('monthly'),
      expected: [
        ['raw', '2026-01-15T10:30:00.000Z', '2026-01-15T11:00:00.000Z'],
        ['hour', '2026-01-15T11:00:00.000Z', '2026-01-16T00:00:00.000Z'],
        ['day', '2026-01-16T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
        ['month', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
        ['day', '2026-03-01T00:00:00.000Z', '2026-03-10T00:00:00.000Z'],
        ['hour', '2026-03-10T00:00:00.000Z', '2026-03-10T05:00:00.000Z'],
        ['raw', '2026-03-10T05:00:00.000Z', '2026-03-10T05:45:00.000Z'],
      ],
    },
    {
      name: 'a forced hourly source reads only hours and raw edges',
      zone: 'UTC',
      start: '2026-01-15T10:30:00Z',
      end: '2026-03-10T05:45:00Z',
      tiers: tiersForSource('hourly'),
      expected: [
        ['raw', '2026-01-15T10:30:00.000Z', '2026-01-15T11:00:00.000Z'],
        ['hour', '2026-01-15T11:00:00.000Z', '2026-03-10T05:00:00.000Z'],
        ['raw', '2026-03-10T05:00:00.000Z', '2026-03-10T05:45:00.000Z'],
      ],
    },
    {
      name: 'the 25-hour Europe/Zurich day is one day bucket',
      zone: 'Europe/Zurich',
      start: '2026-10-25T00:00:00+02:00',
      end: '2026-10-26T00:00:00+01:00',
      tiers: tiersForSource('daily'),
      expected: [['day', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']],
    },
    {
      name: 'Zurich local days: a UTC-midnight start is not a day boundary',
      zone: 'Europe/Zurich',
      start: '2026-10-25T00:00:00Z',
      end: '2026-10-27T00:00:00Z',
      tiers: tiersForSource('daily'),
      expected: [
        ['hour', '2026-10-25T00:00:00.000Z', '2026-10-25T23:00:00.000Z'],
        ['day', '2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z'],
        ['hour', '2026-10-26T23:00:00.000Z', '2026-10-27T00:00:00.000Z'],
      ],
    },
    {
      name: 'half-hour zone: Kolkata hours start at :30 UTC',
      zone: 'Asia/Kolkata',
      start: '2026-05-01T10:00:00Z',
      end: '2026-05-01T13:00:00Z',
      tiers: tiersForSource('hourly'),
      expected: [
        ['raw', '2026-05-01T10:00:00.000Z', '2026-05-01T10:30:00.000Z'],
        ['hour', '2026-05-01T10:30:00.000Z', '2026-05-01T12:30:00.000Z'],
        ['raw', '2026-05-01T12:30:00.000Z', '2026-05-01T13:00:00.000Z'],
      ],
    },
    {
      name: 'inside one hour: raw only',
      zone: 'UTC',
      start: '2026-05-01T10:05:00Z',
      end: '2026-05-01T10:55:00Z',
      tiers: tiersForSource('monthly'),
      expected: [['raw', '2026-05-01T10:05:00.000Z', '2026-05-01T10:55:00.000Z']],
    },
    {
      name: 'leap-year February as a month',
      zone: 'UTC',
      start: '2028-02-01T00:00:00Z',
      end: '2028-03-01T00:00:00Z',
      tiers: tiersForSource('monthly'),
      expected: [['month', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z']],
    },
  ];

  it.each(cases)('$name', ({ zone, start, end, tiers, expected }) => {
    const pieces = planRange(utc(start), utc(end), zone, tiers);
    expect(show(pieces)).toEqual(expected);
    expectExactCover(pieces, utc(start), utc(end), zone);
  });

  it('returns nothing for an empty range', () => {
    expect(planRange(utc('2026-01-01T00:00:00Z'), utc('2026-01-01T00:00:00Z'), 'UTC', ['hour'])).toEqual([]);
  });

  it('covers random ranges exactly in several zones and sources', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const zones = ['UTC', 'Europe/Zurich', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    const base = utc('2025-01-01T00:00:00Z');
    for (let i = 0; i < 300; i += 1) {
      const zone = zones[i % zones.length]!;
      const start = base + Math.floor(random() * 700 * DAY);
      const end = start + Math.floor(random() * (i % 3 === 0 ? 3 * DAY : 200 * DAY));
      const source = (['hourly', 'daily', 'monthly'] as const)[i % 3]!;
      const pieces = planRange(start, end, zone, tiersForSource(source));
      expectExactCover(pieces, start, end, zone);
      expect(pieces.filter((p) => p.kind === 'raw').length).toBeLessThanOrEqual(2);
    }
  });
});

describe('planTotal', () => {
  it('reports the resolved source', () => {
    const plan = planTotal({ start: utc('2026-01-01T00:00:00Z'), end: utc('2026-02-15T00:00:00Z'), storageZone: 'UTC', source: 'auto' });
    expect(plan.source).toBe('daily');
    expect(show(plan.pieces)).toEqual([['day', '2026-01-01T00:00:00.000Z', '2026-02-15T00:00:00.000Z']]);
  });
});

describe('planSeries', () => {
  it('cuts the 25-hour Zurich day and its neighbours into local days, edges from hours and raw', () => {
    const start = utc('2026-10-24T10:30:00+02:00');
    const end = utc('2026-10-26T06:15:00+01:00');
    const plan = planSeries({ start, end, granularity: 'day', queryZone: 'Europe/Zurich', storageZone: 'Europe/Zurich', source: 'daily' });
    expect(plan.buckets.map((b) => [new Date(b.bucketStart).toISOString(), b.end - b.start])).toEqual([
      ['2026-10-23T22:00:00.000Z', 13.5 * HOUR],
      ['2026-10-24T22:00:00.000Z', 25 * HOUR],
      ['2026-10-25T23:00:00.000Z', 6.25 * HOUR],
    ]);
    expect(show(plan.buckets[1]!.pieces)).toEqual([['day', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']]);
    expect(show(plan.buckets[0]!.pieces)).toEqual([
      ['raw', '2026-10-24T08:30:00.000Z', '2026-10-24T09:00:00.000Z'],
      ['hour', '2026-10-24T09:00:00.000Z', '2026-10-24T22:00:00.000Z'],
    ]);
    for (const bucket of plan.buckets) expectExactCover(bucket.pieces, bucket.start, bucket.end, 'Europe/Zurich');
  });

  it('never reads a tier coarser than the point: hourly points read hours even from a monthly source', () => {
    const start = utc('2026-01-01T00:00:00Z');
    const plan = planSeries({ start, end: start + 100 * DAY, granularity: 'hour', queryZone: 'UTC', storageZone: 'UTC', source: 'monthly' });
    expect(new Set(seriesPieces(plan).map((p) => (p.kind === 'raw' ? 'raw' : p.granularity)))).toEqual(new Set(['hour']));
    expect(plan.buckets).toHaveLength(2400);
  });

  it('reads week rollups for weekly points only from a monthly source', () => {
    const start = utc('2026-01-05T00:00:00Z'); // a Monday
    const monthly = planSeries({ start, end: start + 140 * DAY, granularity: 'week', queryZone: 'UTC', storageZone: 'UTC', source: 'auto' });
    expect(monthly.source).toBe('monthly');
    expect(new Set(seriesPieces(monthly).map((p) => (p.kind === 'raw' ? 'raw' : p.granularity)))).toEqual(new Set(['week']));
    const daily = planSeries({ start, end: start + 28 * DAY, granularity: 'week', queryZone: 'UTC', storageZone: 'UTC', source: 'auto' });
    expect(new Set(seriesPieces(daily).map((p) => (p.kind === 'raw' ? 'raw' : p.granularity)))).toEqual(new Set(['day']));
  });

  it('aligns stored pieces to the storage zone when the query zone differs', () => {
    const start = utc('2026-03-02T00:00:00-05:00');
    const plan = planSeries({ start, end: start + 2 * DAY, granularity: 'day', queryZone: 'America/New_York', storageZone: 'UTC', source: 'daily' });
    expect(plan.buckets.map((b) => new Date(b.bucketStart).toISOString())).toEqual(['2026-03-02T05:00:00.000Z', '2026-03-03T05:00:00.000Z']);
    expect(show(plan.buckets[0]!.pieces)).toEqual([['hour', '2026-03-02T05:00:00.000Z', '2026-03-03T05:00:00.000Z']]);
    const kolkata = planSeries({ start: utc('2026-03-02T00:00:00Z'), end: utc('2026-03-02T03:00:00Z'), granularity: 'hour', queryZone: 'Asia/Kolkata', storageZone: 'UTC', source: 'hourly' });
    expect(kolkata.buckets.map((b) => show(b.pieces))).toEqual([
      [['raw', '2026-03-02T00:00:00.000Z', '2026-03-02T00:30:00.000Z']],
      [['raw', '2026-03-02T00:30:00.000Z', '2026-03-02T01:30:00.000Z']],
      [['raw', '2026-03-02T01:30:00.000Z', '2026-03-02T02:30:00.000Z']],
      [['raw', '2026-03-02T02:30:00.000Z', '2026-03-02T03:00:00.000Z']],
    ]);
  });
});

describe('fetchRanges', () => {
  it('merges adjacent pieces of one tier into one read', () => {
    const start = utc('2026-01-01T10:30:00Z');
    const plan = planSeries({ start, end: start + 30 * DAY, granularity: 'day', queryZone: 'UTC', storageZone: 'UTC', source: 'daily' });
    const ranges = fetchRanges(seriesPieces(plan)).map((r) => [r.kind, r.granularity, new Date(r.from).toISOString(), new Date(r.to).toISOString()]);
    expect(ranges).toEqual([
      ['rollup', 'day', '2026-01-02T00:00:00.000Z', '2026-01-31T00:00:00.000Z'],
      ['rollup', 'hour', '2026-01-01T11:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      ['rollup', 'hour', '2026-01-31T00:00:00.000Z', '2026-01-31T10:00:00.000Z'],
      ['raw', null, '2026-01-01T10:30:00.000Z', '2026-01-01T11:00:00.000Z'],
      ['raw', null, '2026-01-31T10:00:00.000Z', '2026-01-31T10:30:00.000Z'],
    ]);
  });
});

describe('retention horizons', () => {
  const start = utc('2026-09-10T10:30:00Z');
  const end = utc('2026-09-13T17:15:00Z');

  it('auto never rests on a tier that expired for part of the range', () => {
    expect(resolveSource('auto', start, end)).toBe('hourly');
    expect(resolveSource('auto', start, end, { hour: utc('2026-10-01T00:00:00Z') })).toBe('daily');
    expect(resolveSource('auto', start, end, { hour: utc('2026-10-01T00:00:00Z'), day: utc('2026-09-11T00:00:00Z') })).toBe('monthly');
    expect(resolveSource('hourly', start, end, { hour: utc('2026-10-01T00:00:00Z') })).toBe('hourly');
  });

  it('answers expired hours from day rollups and raw events', () => {
    const plan = planTotal({ start, end, storageZone: 'UTC', source: 'auto', horizons: { hour: utc('2026-10-01T00:00:00Z') } });
    expect(plan.source).toBe('daily');
    expect(show(plan.pieces)).toEqual([
      ['raw', '2026-09-10T10:30:00.000Z', '2026-09-11T00:00:00.000Z'],
      ['day', '2026-09-11T00:00:00.000Z', '2026-09-13T00:00:00.000Z'],
      ['raw', '2026-09-13T00:00:00.000Z', '2026-09-13T17:15:00.000Z'],
    ]);
  });

  it('uses a tier only from its horizon on, mid-range', () => {
    const pieces = planRange(start, end, 'UTC', ['hour'], { hour: utc('2026-09-12T06:20:00Z') });
    expect(show(pieces)).toEqual([
      ['raw', '2026-09-10T10:30:00.000Z', '2026-09-12T07:00:00.000Z'],
      ['hour', '2026-09-12T07:00:00.000Z', '2026-09-13T17:00:00.000Z'],
      ['raw', '2026-09-13T17:00:00.000Z', '2026-09-13T17:15:00.000Z'],
    ]);
    expectExactCover(pieces, start, end, 'UTC', true);
  });
});


describe('settled tail (settledEnd): a range ending before any later event reads the bucket holding its end whole', () => {
  const start = utc('2026-01-10T08:20:00Z');
  const end = utc('2026-01-14T15:42:00Z'); // a Wednesday

  it('ends the plan at the coarsest bucket starting inside the range, when nothing happens until its end', () => {
    const plan = planTotalCoarsest({ start, end, storageZone: 'UTC', quietUntil: Infinity });
    expect(show(plan.pieces).at(-1)).toEqual(['week', '2026-01-12T00:00:00.000Z', '2026-01-19T00:00:00.000Z']);
    expectExactCover(plan.pieces, start, utc('2026-01-19T00:00:00Z'), 'UTC');
    expect(plan.source).toBe(planTotalCoarsest({ start, end, storageZone: 'UTC' }).source);
  });

  it('takes the finer bucket the quiet stretch allows, and nothing when it ends before the next hour', () => {
    expect(settledEnd(start, end, utc('2026-01-15T00:00:00Z'), 'UTC', ['month', 'week', 'day', 'hour'])).toBe(utc('2026-01-15T00:00:00Z'));
    expect(settledEnd(start, end, utc('2026-01-14T16:30:00Z'), 'UTC', ['month', 'week', 'day', 'hour'])).toBe(utc('2026-01-14T16:00:00Z'));
    expect(settledEnd(start, end, utc('2026-01-14T15:59:59Z'), 'UTC', ['month', 'week', 'day', 'hour'])).toBe(end);
    expect(settledEnd(start, end, end, 'UTC', ['month', 'week', 'day', 'hour'])).toBe(end);
    expect(settledEnd(start, end, undefined, 'UTC', ['month', 'week', 'day', 'hour'])).toBe(end);
    const plan = planTotal({ start, end, storageZone: 'UTC', source: 'hourly', quietUntil: utc('2026-01-14T16:30:00Z') });
    expect(show(plan.pieces).at(-1)).toEqual(['hour', '2026-01-10T09:00:00.000Z', '2026-01-14T16:00:00.000Z']);
  });

  it('never reads a bucket starting before the range, nor one of an expired tier', () => {
    const lateStart = utc('2026-01-14T10:10:00Z');
    expect(settledEnd(lateStart, end, Infinity, 'UTC', ['month', 'week', 'day', 'hour'])).toBe(utc('2026-01-14T16:00:00Z'));
    expect(settledEnd(start, end, Infinity, 'UTC', ['day', 'hour'], { day: utc('2026-01-14T12:00:00Z') })).toBe(utc('2026-01-14T16:00:00Z'));
    expect(settledEnd(start, utc('2026-01-14T00:00:00Z'), Infinity, 'UTC', ['day', 'hour'])).toBe(utc('2026-01-14T00:00:00Z'));
  });

  it('follows the storage zone (a half-hour zone) and extends only the last point of a series', () => {
    const plan = planSeries({ start, end, granularity: 'day', queryZone: 'Asia/Kolkata', storageZone: 'Asia/Kolkata', source: 'daily', quietUntil: Infinity });
    const last = plan.buckets.at(-1)!;
    expect(last.end).toBe(end);
    expect(show(last.pieces)).toEqual([['day', '2026-01-13T18:30:00.000Z', '2026-01-14T18:30:00.000Z']]);
    const plain = planSeries({ start, end, granularity: 'day', queryZone: 'Asia/Kolkata', storageZone: 'Asia/Kolkata', source: 'daily' });
    expect(plan.buckets.slice(0, -1)).toEqual(plain.buckets.slice(0, -1));
    expect(show(plain.buckets.at(-1)!.pieces).at(-1)![0]).toBe('raw');
  });
});
