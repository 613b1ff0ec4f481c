import { describe, expect, it } from 'vitest';
import {
  memoizedHourFloor,
  addLocalDays,
  bucketStartsBetween,
  floorBucket,
  localDate,
  nextBucket,
  startOfLocalDate,
  zoneOffsetMinutes,
} from '../../../src/domain/time-buckets.ts';
import { GRANULARITIES, type Granularity } from '../../../src/domain/rollup-types.ts';
import { pick, seededRandom } from './random.ts';

const HOUR = 3_600_000;
const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad ISO instant ${iso}`);
  return ms;
};
const iso = (ms: number): string => new Date(ms).toISOString();

describe('day length across daylight-saving changes', () => {
  const cases: Array<{ zone: string; date: string; start: string; end: string; hours: number }> = [
    { zone: 'Europe/Zurich', date: '2026-03-29', start: '2026-03-28T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z', hours: 23 },
    { zone: 'Europe/Zurich', date: '2026-10-25', start: '2026-10-24T22:00:00.000Z', end: '2026-10-25T23:00:00.000Z', hours: 25 },
    { zone: 'Europe/Zurich', date: '2026-06-15', start: '2026-06-14T22:00:00.000Z', end: '2026-06-15T22:00:00.000Z', hours: 24 },
    { zone: 'America/New_York', date: '2026-03-08', start: '2026-03-08T05:00:00.000Z', end: '2026-03-09T04:00:00.000Z', hours: 23 },
    { zone: 'America/New_York', date: '2026-11-01', start: '2026-11-01T04:00:00.000Z', end: '2026-11-02T05:00:00.000Z', hours: 25 },
    { zone: 'America/Los_Angeles', date: '2026-03-08', start: '2026-03-08T08:00:00.000Z', end: '2026-03-09T07:00:00.000Z', hours: 23 },
    { zone: 'America/Los_Angeles', date: '2026-11-01', start: '2026-11-01T07:00:00.000Z', end: '2026-11-02T08:00:00.000Z', hours: 25 },
    { zone: 'America/Phoenix', date: '2026-03-08', start: '2026-03-08T07:00:00.000Z', end: '2026-03-09T07:00:00.000Z', hours: 24 },
    { zone: 'Asia/Kolkata', date: '2026-05-05', start: '2026-05-04T18:30:00.000Z', end: '2026-05-05T18:30:00.000Z', hours: 24 },
    { zone: 'Asia/Kathmandu', date: '2026-05-05', start: '2026-05-04T18:15:00.000Z', end: '2026-05-05T18:15:00.000Z', hours: 24 },
    // Lord Howe shifts by 30 minutes: 24.5-hour and 23.5-hour days.
    { zone: 'Australia/Lord_Howe', date: '2026-04-05', start: '2026-04-04T13:00:00.000Z', end: '2026-04-05T13:30:00.000Z', hours: 24.5 },
    { zone: 'Australia/Lord_Howe', date: '2026-10-04', start: '2026-10-03T13:30:00.000Z', end: '2026-10-04T13:00:00.000Z', hours: 23.5 },
  ];
  it.each(cases)('$zone $date lasts $hours hours', ({ zone, date, start, end, hours }) => {
    const dayStart = startOfLocalDate(date, zone);
    expect(iso(dayStart)).toBe(start);
    expect(iso(nextBucket(dayStart, 'day', zone))).toBe(end);
    expect((at(end) - at(start)) / HOUR).toBe(hours);
    expect(floorBucket(at(end) - 1, 'day', zone)).toBe(dayStart);
    expect(localDate(dayStart, zone)).toBe(date);
    expect(localDate(at(end) - 1, zone)).toBe(date);
  });

  it('splits the Zurich 23-hour and 25-hour days into 23 and 25 hour buckets of 60 minutes', () => {
    for (const [date, count] of [['2026-03-29', 23], ['2026-10-25', 25]] as const) {
      const start = startOfLocalDate(date, 'Europe/Zurich');
      const hours = bucketStartsBetween(start, nextBucket(start, 'day', 'Europe/Zurich'), 'hour', 'Europe/Zurich');
      expect(hours).toHaveLength(count);
      for (const h of hours) expect(nextBucket(h, 'hour', 'Europe/Zurich') - h).toBe(HOUR);
    }
  });

  it('keeps the repeated 02:00 of 2026-10-25 in Zurich as two distinct hour buckets', () => {
    const firstTwo = floorBucket(at('2026-10-25T00:40:00Z'), 'hour', 'Europe/Zurich'); // 02:40 CEST
    const secondTwo = floorBucket(at('2026-10-25T01:40:00Z'), 'hour', 'Europe/Zurich'); // 02:40 CET
    expect(iso(firstTwo)).toBe('2026-10-25T00:00:00.000Z');
    expect(iso(secondTwo)).toBe('2026-10-25T01:00:00.000Z');
    expect(nextBucket(firstTwo, 'hour', 'Europe/Zurich')).toBe(secondTwo);
  });

  it('skips the missing 02:00 of 2026-03-29 in Zurich', () => {
    const one = floorBucket(at('2026-03-29T00:59:59Z'), 'hour', 'Europe/Zurich'); // 01:59:59 CET
    expect(iso(one)).toBe('2026-03-29T00:00:00.000Z');
    expect(iso(nextBucket(one, 'hour', 'Europe/Zurich'))).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
  });
});

describe('hour buckets in offset zones', () => {
  const cases: Array<{ zone: string; ts: string; hour: string; next: string }> = [
    { zone: 'UTC', ts: '2026-05-05T10:59:59.999Z', hour: '2026-05-05T10:00:00.000Z', next: '2026-05-05T11:00:00.000Z' },
    { zone: 'Asia/Kolkata', ts: '2026-05-05T10:00:00Z', hour: '2026-05-05T09:30:00.000Z', next: '2026-05-05T10:30:00.000Z' },
    { zone: 'Asia/Kolkata', ts: '2026-05-05T09:30:00Z', hour: '2026-05-05T09:30:00.000Z', next: '2026-05-05T10:30:00.000Z' },
    { zone: 'Asia/Kathmandu', ts: '2026-05-05T10:00:00Z', hour: '2026-05-05T09:15:00.000Z', next: '2026-05-05T10:15:00.000Z' },
    { zone: 'Asia/Kathmandu', ts: '2026-05-05T09:14:59.999Z', hour: '2026-05-05T08:15:00.000Z', next: '2026-05-05T09:15:00.000Z' },
    { zone: 'America/St_Johns', ts: '2026-07-01T12:00:00Z', hour: '2026-07-01T11:30:00.000Z', next: '2026-07-01T12:30:00.000Z' },
    // Lord Howe falls back from 02:00 (+11) to 01:30 (+10:30): local hour 01 lasts 90 minutes.
    { zone: 'Australia/Lord_Howe', ts: '2026-04-04T14:59:59Z', hour: '2026-04-04T14:00:00.000Z', next: '2026-04-04T15:30:00.000Z' },
    { zone: 'Australia/Lord_Howe', ts: '2026-04-04T15:10:00Z', hour: '2026-04-04T14:00:00.000Z', next: '2026-04-04T15:30:00.000Z' },
    { zone: 'Australia/Lord_Howe', ts: '2026-04-04T15:30:00Z', hour: '2026-04-04T15:30:00.000Z', next: '2026-04-04T16:30:00.000Z' },
    // Lord Howe springs from 02:00 (+10:30) to 02:30 (+11): local hour 02 lasts 30 minutes.
    { zone: 'Australia/Lord_Howe', ts: '2026-10-03T15:29:59Z', hour: '2026-10-03T14:30:00.000Z', next: '2026-10-03T15:30:00.000Z' },
    { zone: 'Australia/Lord_Howe', ts: '2026-10-03T15:45:00Z', hour: '2026-10-03T15:30:00.000Z', next: '2026-10-03T16:00:00.000Z' },
    { zone: 'Australia/Lord_Howe', ts: '2026-10-03T16:00:00Z', hour: '2026-10-03T16:00:00.000Z', next: '2026-10-03T17:00:00.000Z' },
  ];
  it.each(cases)('$zone: $ts is in the hour starting $hour', ({ zone, ts, hour, next }) => {
    expect(iso(floorBucket(at(ts), 'hour', zone))).toBe(hour);
    expect(iso(nextBucket(at(hour), 'hour', zone))).toBe(next);
    expect(iso(nextBucket(at(ts), 'hour', zone))).toBe(next);
  });

  it('reports zone offsets in minutes', () => {
    expect(zoneOffsetMinutes(at('2026-05-05T10:00:00Z'), 'Asia/Kathmandu')).toBe(345);
    expect(zoneOffsetMinutes(at('2026-05-05T10:00:00Z'), 'Asia/Kolkata')).toBe(330);
    expect(zoneOffsetMinutes(at('2026-01-05T10:00:00Z'), 'America/New_York')).toBe(-300);
  });
});

describe('weeks and months', () => {
  const cases: Array<{ zone: string; g: Granularity; ts: string; start: string; next: string }> = [
    // 2027-01-01 is a Friday: its ISO week starts Monday 2026-12-28.
    { zone: 'UTC', g: 'week', ts: '2027-01-01T10:00:00Z', start: '2026-12-28T00:00:00.000Z', next: '2027-01-04T00:00:00.000Z' },
    { zone: 'UTC', g: 'week', ts: '2027-01-03T23:59:59.999Z', start: '2026-12-28T00:00:00.000Z', next: '2027-01-04T00:00:00.000Z' },
    { zone: 'UTC', g: 'week', ts: '2027-01-04T00:00:00Z', start: '2027-01-04T00:00:00.000Z', next: '2027-01-11T00:00:00.000Z' },
    { zone: 'Europe/Zurich', g: 'week', ts: '2027-01-01T10:00:00Z', start: '2026-12-27T23:00:00.000Z', next: '2027-01-03T23:00:00.000Z' },
    // Sunday 23:30 local in Zurich is still the old week; 00:30 Monday local is the new one.
    { zone: 'Europe/Zurich', g: 'week', ts: '2026-06-14T21:30:00Z', start: '2026-06-07T22:00:00.000Z', next: '2026-06-14T22:00:00.000Z' },
    { zone: 'Europe/Zurich', g: 'week', ts: '2026-06-14T22:30:00Z', start: '2026-06-14T22:00:00.000Z', next: '2026-06-21T22:00:00.000Z' },
    // A week holding the New York spring-forward day has 167 hours.
    { zone: 'America/New_York', g: 'week', ts: '2026-03-08T12:00:00Z', start: '2026-03-02T05:00:00.000Z', next: '2026-03-09T04:00:00.000Z' },
    { zone: 'UTC', g: 'month', ts: '2026-01-31T23:59:59.999Z', start: '2026-01-01T00:00:00.000Z', next: '2026-02-01T00:00:00.000Z' },
    { zone: 'Europe/Zurich', g: 'month', ts: '2026-01-31T23:30:00Z', start: '2026-01-31T23:00:00.000Z', next: '2026-02-28T23:00:00.000Z' },
    { zone: 'Europe/Zurich', g: 'month', ts: '2026-03-31T21:59:59Z', start: '2026-02-28T23:00:00.000Z', next: '2026-03-31T22:00:00.000Z' },
    { zone: 'UTC', g: 'month', ts: '2028-02-29T12:00:00Z', start: '2028-02-01T00:00:00.000Z', next: '2028-03-01T00:00:00.000Z' },
    { zone: 'UTC', g: 'month', ts: '2026-12-31T23:00:00Z', start: '2026-12-01T00:00:00.000Z', next: '2027-01-01T00:00:00.000Z' },
    { zone: 'America/Los_Angeles', g: 'month', ts: '2026-04-01T06:59:59Z', start: '2026-03-01T08:00:00.000Z', next: '2026-04-01T07:00:00.000Z' },
    { zone: 'UTC', g: 'day', ts: '2028-02-29T23:59:59.999Z', start: '2028-02-29T00:00:00.000Z', next: '2028-03-01T00:00:00.000Z' },
    { zone: 'Asia/Kolkata', g: 'month', ts: '2026-05-31T18:30:00Z', start: '2026-05-31T18:30:00.000Z', next: '2026-06-30T18:30:00.000Z' },
  ];
  it.each(cases)('$zone $g of $ts starts $start', ({ zone, g, ts, start, next }) => {
    expect(iso(floorBucket(at(ts), g, zone))).toBe(start);
    expect(iso(nextBucket(at(start), g, zone))).toBe(next);
  });

  it('has 29 days in February 2028 and 28 in February 2026', () => {
    expect(bucketStartsBetween(at('2028-02-01T00:00Z'), at('2028-03-01T00:00Z'), 'day', 'UTC')).toHaveLength(29);
    expect(bucketStartsBetween(at('2026-02-01T00:00Z'), at('2026-03-01T00:00Z'), 'day', 'UTC')).toHaveLength(28);
    expect(startOfLocalDate('2028-02-29', 'UTC')).toBe(at('2028-02-29T00:00Z'));
    expect(addLocalDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addLocalDays('2028-02-29', 1)).toBe('2028-03-01');
    expect(addLocalDays('2026-01-01', -1)).toBe('2025-12-31');
  });
});

describe('old and negative timestamps', () => {
  it('floors instants before 1970 in UTC', () => {
    expect(floorBucket(-1, 'hour', 'UTC')).toBe(-HOUR);
    expect(floorBucket(-1, 'day', 'UTC')).toBe(-24 * HOUR);
    expect(floorBucket(-1, 'week', 'UTC')).toBe(Date.UTC(1969, 11, 29));
    expect(floorBucket(-1, 'month', 'UTC')).toBe(Date.UTC(1969, 11, 1));
    expect(nextBucket(Date.UTC(1969, 11, 1), 'month', 'UTC')).toBe(0);
  });

  it('handles 1900 (not a leap year) and 1938 in New York', () => {
    // 1900-01-01 was a Monday.
    expect(floorBucket(Date.UTC(1900, 0, 3, 12, 34), 'week', 'UTC')).toBe(Date.UTC(1900, 0, 1));
    expect(nextBucket(Date.UTC(1900, 1, 1), 'month', 'UTC')).toBe(Date.UTC(1900, 2, 1));
    expect(localDate(-1e12, 'America/New_York')).toBe('1938-04-24');
    expect(floorBucket(-1e12, 'day', 'America/New_York')).toBe(Date.UTC(1938, 3, 24, 5));
  });

  it('keeps local-mean-time offsets that are not whole minutes', () => {
    const ts = Date.UTC(1850, 5, 1, 12, 0, 0);
    const start = floorBucket(ts, 'hour', 'Europe/Zurich');
    expect(start).toBeLessThanOrEqual(ts);
    expect(nextBucket(start, 'hour', 'Europe/Zurich') - start).toBe(HOUR);
    expect(localDate(start, 'Europe/Zurich')).toBe('1850-06-01');
  });
});

describe('inputs', () => {
  it('rejects unknown zones and impossible dates', () => {
    expect(() => floorBucket(0, 'hour', 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => startOfLocalDate('2026-02-30', 'UTC')).toThrow(RangeError);
    expect(() => startOfLocalDate('2026-2-3', 'UTC')).toThrow(RangeError);
  });

  it('lists the buckets overlapping [from, to)', () => {
    const z = 'Asia/Kolkata';
    expect(bucketStartsBetween(at('2026-05-05T10:00Z'), at('2026-05-05T11:30Z'), 'hour', z).map(iso)).toEqual([
      '2026-05-05T09:30:00.000Z',
      '2026-05-05T10:30:00.000Z',
    ]);
    expect(bucketStartsBetween(at('2026-05-05T10:00Z'), at('2026-05-05T11:31Z'), 'hour', z)).toHaveLength(3);
    expect(bucketStartsBetween(at('2026-05-05T10:00Z'), at('2026-05-05T10:00Z'), 'hour', z)).toEqual([]);
    expect(bucketStartsBetween(at('2026-05-06T10:00Z'), at('2026-05-05T10:00Z'), 'day', z)).toEqual([]);
  });
});

/** Independent oracle: scan the wall clock minute by minute with Intl and apply the documented rule. */
function wallClock(zone: string): (ts: number) => { date: string; hour: number; minute: number; second: number } {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  return (ts) => {
    const parts = Object.fromEntries(format.formatToParts(ts).map((p) => [p.type, p.value]));
    return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) % 24, minute: Number(parts.minute), second: Number(parts.second) };
  };
}

function oracleBoundaries(zone: string, from: number, to: number, granularity: 'hour' | 'day'): number[] {
  const wall = wallClock(zone);
  const boundaries: number[] = [];
  let previous = wall(from - 60_000);
  for (let t = from; t < to; t += 60_000) {
    const now = wall(t);
    const isBoundary =
      granularity === 'hour'
        ? (now.minute === 0 && now.second === 0) || now.hour !== previous.hour || now.date !== previous.date
        : now.date !== previous.date;
    if (isBoundary) boundaries.push(t);
    previous = now;
  }
  return boundaries;
}

describe('matches a minute-by-minute oracle around every 2026 transition', () => {
  const windows: Array<[string, string]> = [
    ['Europe/Zurich', '2026-03-29T00:00Z'],
    ['Europe/Zurich', '2026-10-25T00:00Z'],
    ['America/New_York', '2026-03-08T06:00Z'],
    ['America/New_York', '2026-11-01T05:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T14:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:00Z'],
    ['America/Santiago', '2026-04-05T03:00Z'],
    ['America/Santiago', '2026-09-06T04:00Z'],
    ['Asia/Kathmandu', '2026-01-01T00:00Z'],
    ['Asia/Kolkata', '2026-01-01T00:00Z'],
  ];
  it.each(windows)('%s around %s', (zone, center) => {
    const from = at(center) - 36 * HOUR;
    const to = at(center) + 36 * HOUR;
    for (const granularity of ['hour', 'day'] as const) {
      const expected = oracleBoundaries(zone, from, to, granularity);
      const actual = bucketStartsBetween(from, to, granularity, zone).filter((b) => b >= from);
      expect(actual.map(iso)).toEqual(expected.map(iso));
    }
  });
});

describe('properties on random instants', () => {
  const zones = [
    'UTC', 'Europe/Zurich', 'America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Asia/Kathmandu',
    'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'America/St_Johns', 'Pacific/Apia', 'Africa/Casablanca',
  ];
  it('floor(ts) <= ts < next(floor(ts)), and bucket starts are fixed points of floor', () => {
    const random = seededRandom(20260329);
    const lo = Date.UTC(1900, 0, 1);
    const hi = Date.UTC(2100, 0, 1);
    for (let i = 0; i < 3000; i++) {
      const ts = Math.floor(lo + random() * (hi - lo));
      const zone = pick(random, zones);
      const g = pick(random, GRANULARITIES);
      const b = floorBucket(ts, g, zone);
      const n = nextBucket(b, g, zone);
      const context = `${g} ${zone} ${iso(ts)}`;
      expect(b, context).toBeLessThanOrEqual(ts);
      expect(n, context).toBeGreaterThan(ts);
      expect(floorBucket(b, g, zone), context).toBe(b);
      expect(floorBucket(n, g, zone), context).toBe(n);
      expect(floorBucket(n - 1, g, zone), context).toBe(b);
      expect(nextBucket(ts, g, zone), context).toBe(n);
    }
  });

  it('nests every hour in one day, every day in one week and one month', () => {
    const random = seededRandom(7);
    const lo = Date.UTC(2000, 0, 1);
    const hi = Date.UTC(2040, 0, 1);
    for (let i = 0; i < 1000; i++) {
      const ts = Math.floor(lo + random() * (hi - lo));
      const zone = pick(random, zones);
      const hour = floorBucket(ts, 'hour', zone);
      const day = floorBucket(ts, 'day', zone);
      expect(floorBucket(hour, 'day', zone)).toBe(day);
      expect(floorBucket(day, 'week', zone)).toBe(floorBucket(ts, 'week', zone));
      expect(floorBucket(day, 'month', zone)).toBe(floorBucket(ts, 'month', zone));
      expect(startOfLocalDate(localDate(day, zone), zone)).toBe(day);
    }
  });
});

describe('memoizedHourFloor', () => {
  it.each(['Europe/Zurich', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/New_York'])(
    'equals floorBucket(ts, hour) in %s for every minute around its 2026 transitions',
    (zone) => {
      const memo = memoizedHourFloor(zone);
      const minute = 60_000;
      for (const [from, to] of [
        [Date.UTC(2026, 2, 27), Date.UTC(2026, 3, 6)],
        [Date.UTC(2026, 9, 3), Date.UTC(2026, 10, 3)],
      ] as const) {
        for (let ts = from; ts < to; ts += 7 * minute) expect(memo(ts)).toBe(floorBucket(ts, 'hour', zone));
      }
    },
  );
});
