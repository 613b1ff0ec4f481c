import { describe, expect, test } from 'vitest';
import { bucketKey, computeRange, parseBucketTime } from '../../web/src/lib/time.ts';

/**
 * The dashboard's calendar math (web/src/lib/time.ts) without a browser. Expected instants are
 * written out by hand from the zones' offsets, not computed with the code under test.
 */

const at = (iso: string) => Date.parse(iso);

describe('computeRange', () => {
  test.each([
    {
      name: '7d in Los Angeles spans a spring-forward day (7 local days, 167 hours)',
      preset: '7d' as const,
      tz: 'America/Los_Angeles',
      now: '2026-03-10T12:00:00Z', // 05:00 PDT, DST began 2026-03-08
      start: '2026-03-04T08:00:00Z',
      end: '2026-03-11T07:00:00Z',
      granularity: 'day',
    },
    {
      name: '24h in Kolkata ends at the next local hour, which is :30 in UTC',
      preset: '24h' as const,
      tz: 'Asia/Kolkata',
      now: '2026-01-15T10:45:00Z', // 16:15 IST
      start: '2026-01-14T11:30:00Z',
      end: '2026-01-15T11:30:00Z',
      granularity: 'hour',
    },
    {
      name: '30d in Kathmandu (UTC+05:45)',
      preset: '30d' as const,
      tz: 'Asia/Kathmandu',
      now: '2026-05-31T20:00:00Z', // 01:45 on June 1 local
      start: '2026-05-02T18:15:00Z',
      end: '2026-06-01T18:15:00Z',
      granularity: 'day',
    },
    {
      name: '90d in UTC',
      preset: '90d' as const,
      tz: 'UTC',
      now: '2026-04-10T09:00:00Z',
      start: '2026-01-11T00:00:00Z',
      end: '2026-04-11T00:00:00Z',
      granularity: 'day',
    },
  ])('$name', ({ preset, tz, now, start, end, granularity }) => {
    const range = computeRange(preset, at(now), tz);
    expect(new Date(range.start).toISOString()).toBe(new Date(at(start)).toISOString());
    expect(new Date(range.end).toISOString()).toBe(new Date(at(end)).toISOString());
    expect(range.granularity).toBe(granularity);
    expect(range.dataEnd).toBe(Math.min(at(end), Math.ceil(at(now) / 60_000) * 60_000));
    // The previous period has the same length and is cut at the same elapsed point.
    expect(range.start - range.previousStart).toBe(range.end - range.start);
    expect(range.dataEnd - range.previousEnd).toBe(range.end - range.start);
  });

  test('a custom day in Zurich on the fall-back day is 25 hourly buckets', () => {
    const range = computeRange('custom', at('2026-11-01T10:00:00Z'), 'Europe/Zurich', { from: '2026-10-25', to: '2026-10-25' });
    expect(range.start).toBe(at('2026-10-24T22:00:00Z'));
    expect(range.end).toBe(at('2026-10-25T23:00:00Z'));
    expect(range.granularity).toBe('hour');
    expect(range.dataEnd).toBe(range.end);
    expect(range.dashboardRange).toBe('custom');
  });

  test('custom dates given in reverse order are swapped', () => {
    const range = computeRange('custom', at('2026-02-10T00:00:00Z'), 'UTC', { from: '2026-02-05', to: '2026-02-01' });
    expect([range.start, range.end]).toEqual([at('2026-02-01T00:00:00Z'), at('2026-02-06T00:00:00Z')]);
  });
});

describe('bucket labels in the selected zone', () => {
  test.each([
    { text: '2026-01-14', tz: 'Asia/Kolkata', instant: '2026-01-13T18:30:00Z' },
    { text: '2026-01-14T05:00', tz: 'America/Los_Angeles', instant: '2026-01-14T13:00:00Z' },
    { text: '2026-07-14T05:00', tz: 'America/Los_Angeles', instant: '2026-07-14T12:00:00Z' },
    { text: '2026-01-13T18:30:00Z', tz: 'America/Los_Angeles', instant: '2026-01-13T18:30:00Z' },
    { text: '2026-01-14T00:00:00+05:30', tz: 'UTC', instant: '2026-01-13T18:30:00Z' },
  ])('parses $text in $tz', ({ text, tz, instant }) => {
    expect(parseBucketTime(text, tz)).toBe(at(instant));
  });

  test.each([
    // Kolkata's midnight is the previous evening in UTC and the previous morning in Los Angeles.
    { instant: '2026-01-13T18:30:00Z', granularity: 'day' as const, tz: 'Asia/Kolkata', key: '2026-01-14' },
    { instant: '2026-01-13T18:30:00Z', granularity: 'day' as const, tz: 'America/Los_Angeles', key: '2026-01-13' },
    { instant: '2026-03-04T08:00:00Z', granularity: 'day' as const, tz: 'America/Los_Angeles', key: '2026-03-04' },
    { instant: '2026-01-15T10:30:00Z', granularity: 'hour' as const, tz: 'Asia/Kolkata', key: '2026-01-15 16:00' },
    { instant: '2026-10-25T01:00:00Z', granularity: 'hour' as const, tz: 'Europe/Zurich', key: '2026-10-25 02:00' },
  ])('names $instant as $key in $tz', ({ instant, granularity, tz, key }) => {
    expect(bucketKey(at(instant), granularity, tz)).toBe(key);
  });
});
