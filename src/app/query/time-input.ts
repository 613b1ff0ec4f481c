import { ValidationError } from '../../domain/errors.ts';
import { isValidTimeZone, type Organization } from '../../domain/organization.ts';
import { floorBucket, localDate, nextBucket, startOfLocalDate, zoneOffsetMinutes } from '../../domain/time-buckets.ts';

/**
 * Turning query parameters into instants and instants back into labels. An ISO 8601 value
 * with `Z` or an offset is an absolute instant; a date or date-time without one is wall-clock
 * time in the query's zone (`tz`, else the organization's).
 */

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
export const MAX_RANGE_DAYS = 3 * 365 + 1;

const ABSOLUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

export function resolveTimeZone(requested: string | undefined, org: Organization, field = 'tz'): string {
  if (requested === undefined || requested === '') return org.timezone;
  if (!isValidTimeZone(requested)) throw ValidationError.field(field, `unknown IANA time zone "${requested}"`);
  return requested;
}

/**
 * The instant a wall-clock reading denotes in `zone`. A reading that occurs twice (the hour
 * repeated when clocks fall back) is its first occurrence; one that never occurs (skipped
 * when clocks spring forward) is read with the offset before the jump, landing after it.
 */
function wallClockToInstant(fields: number[], zone: string): number {
  const [year, month, day, hour, minute, second, ms] = fields as [number, number, number, number, number, number, number];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const offsetBefore = zoneOffsetMinutes(asUtc - DAY, zone);
  const offsetAfter = zoneOffsetMinutes(asUtc + DAY, zone);
  const readsBack = (ts: number) => ts + zoneOffsetMinutes(ts, zone) * MINUTE === asUtc;
  const candidates = [asUtc - offsetBefore * MINUTE, asUtc - offsetAfter * MINUTE].filter(readsBack);
  return candidates.length > 0 ? Math.min(...candidates) : asUtc - offsetBefore * MINUTE;
}

function validCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export interface ParsedInstant {
  ts: number;
  /** True for a bare `YYYY-MM-DD`. */
  dateOnly: boolean;
}

export function parseInstant(text: string, zone: string, field: string): ParsedInstant {
  const value = text.trim();
  const invalid = () => ValidationError.field(field, `"${text}" is not an ISO 8601 date or date-time`);
  if (ABSOLUTE.test(value)) {
    const ts = Date.parse(value);
    if (Number.isNaN(ts)) throw invalid();
    return { ts, dateOnly: false };
  }
  const date = LOCAL_DATE.exec(value);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!validCalendarDate(year, month, day)) throw invalid();
    return { ts: startOfLocalDate(value, zone), dateOnly: true };
  }
  const dateTime = LOCAL_DATE_TIME.exec(value);
  if (dateTime) {
    const fields = dateTime.slice(1, 7).map((part) => Number(part ?? 0));
    fields.push(Number((dateTime[7] ?? '0').padEnd(3, '0').slice(0, 3)));
    const [year, month, day, hour, minute, second] = fields as [number, number, number, number, number, number];
    if (!validCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) throw invalid();
    return { ts: wallClockToInstant(fields, zone), dateOnly: false };
  }
  throw invalid();
}

export interface RangeInput {
  start?: string | undefined;
  end?: string | undefined;
}

export interface RangeRules {
  zone: string;
  now: number;
  /** Span used when `start` is absent. */
  defaultSpanMs: number;
  maxSpanDays: number;
  startField: string;
  endField: string;
  /** Seed 000 compatibility: a bare date as the end includes that whole day. */
  dateOnlyEndIsInclusive?: boolean;
  /** Seed 000 compatibility: an absent start is the default span before now, even when the end is given. */
  defaultStartFromNow?: boolean;
}

export interface ResolvedRange {
  start: number;
  end: number;
  zone: string;
  /** `end` was not given and is "now": the answer changes by the minute. */
  endIsNow: boolean;
  /** `start` was not given: the default span before `end`. */
  startIsDefault: boolean;
}

export function resolveRange(input: RangeInput, rules: RangeRules): ResolvedRange {
  const endIsNow = input.end === undefined || input.end === '';
  let end = rules.now;
  let inclusiveDay = false;
  let endAsGiven = end;
  if (!endIsNow) {
    const parsed = parseInstant(input.end!, rules.zone, rules.endField);
    inclusiveDay = parsed.dateOnly && rules.dateOnlyEndIsInclusive === true;
    endAsGiven = parsed.ts;
    end = inclusiveDay ? nextBucket(parsed.ts, 'day', rules.zone) : parsed.ts;
  }
  const startIsDefault = input.start === undefined || input.start === '';
  const start = startIsDefault ? (rules.defaultStartFromNow === true ? rules.now : end) - rules.defaultSpanMs : parseInstant(input.start!, rules.zone, rules.startField).ts;
  // Compared with the end as written: an inclusive end date one day before the start is still reversed.
  if (start > end || (!startIsDefault && start > endAsGiven)) {
    throw ValidationError.field(rules.startField, `must not be after ${rules.endField}`);
  }
  // An hour of slack for ranges of whole local days across a daylight-saving change; an
  // inclusive end date adds its own day.
  const allowed = rules.maxSpanDays * DAY + HOUR + (inclusiveDay ? DAY : 0);
  if (end - start > allowed) {
    throw ValidationError.field(rules.endField, `the range may span at most ${rules.maxSpanDays} days`);
  }
  return { start, end, zone: rules.zone, endIsNow, startIsDefault };
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** `2026-10-25T02:00:00+02:00`, or with `Z` in UTC (as seed 000 writes its dates). */
export function formatInstant(ts: number, zone: string, options: { milliseconds?: boolean } = {}): string {
  const offset = zoneOffsetMinutes(ts, zone);
  const local = new Date(ts + offset * MINUTE);
  // Seed 000 compatibility: Python's isoformat() keeps the fraction of a second when there is one.
  const fraction = options.milliseconds === true && local.getUTCMilliseconds() !== 0 ? `.${pad(local.getUTCMilliseconds(), 3)}` : '';
  const body = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}`;
  if (offset === 0) return `${body}Z`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${body}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Seed 002 axis labels: `2025-07-02` for days, `2025-07-02T12:00` for hours, in local time. */
export function formatLabel(ts: number, grain: 'hour' | 'day', zone: string): string {
  if (grain === 'day') return localDate(ts, zone);
  return formatInstant(ts, zone).slice(0, 16);
}

/** Local calendar days touched by [start, end) (at least 1 for a non-empty range). */
export function localDaysIn(start: number, end: number, zone: string): number {
  if (!(start < end)) return 0;
  let days = 0;
  for (let day = floorBucket(start, 'day', zone); day < end; day = nextBucket(day, 'day', zone)) days += 1;
  return days;
}
