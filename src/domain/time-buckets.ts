import type { Granularity } from './rollup-types.ts';

/**
 * Calendar buckets in an IANA time zone, as UTC instants (epoch ms). Buckets are
 * [start, next(start)); days may have 23 or 25 hours; weeks start on ISO Monday.
 *
 * Local hours: a bucket starts at every instant whose wall clock reads HH:00:00, and at every
 * instant where the wall-clock hour changes without passing HH:00 (a spring-forward jump to
 * HH:30). So Europe/Zurich's repeated 02:00 on 2026-10-25 is two 60-minute buckets, while
 * Australia/Lord_Howe (30-minute shifts) has a 30-minute local hour when clocks jump from
 * 02:00 to 02:30 and a 90-minute one when they fall back from 02:00 to 01:30 (01:00 is not
 * read a second time). Days, weeks and months start at the first instant of their local date
 * (midnight, or the end of a jump that skips midnight).
 *
 * Only Intl is used. Zone offsets are memoised per UTC hour so the per-event hour floor is a
 * map lookup plus arithmetic.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Offsets never exceed ±15 h, so every instant of a local date lies in this window around its UTC midnight. */
const BEFORE_MIDNIGHT = 15 * HOUR;
const AFTER_MIDNIGHT = 13 * HOUR;
/** Memo size cap per zone; far above what one process touches in practice. */
const MEMO_LIMIT = 200_000;

interface LocalDate {
  year: number;
  month: number; // 1..12
  day: number;
}

/** Instant whose UTC fields equal the given wall-clock fields (valid for every year, incl. 0..99). */
function utcFromFields(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

type CoarseGranularity = Exclude<Granularity, 'hour'>;

/** Stores `value` under `key` and returns it; a full memo is emptied first (every memo of a zone is bounded). */
function remember<K>(memo: Map<K, number>, key: K, value: number): number {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

class Zone {
  private readonly format: Intl.DateTimeFormat;
  /** UTC hour index → offset valid for [hour - 1 h, hour + 1 h), or NaN when that window has a transition. */
  private readonly stableOffsets = new Map<number, number>();
  private readonly dayStarts = new Map<string, number>();
  /**
   * Day, week and month boundaries by instant: a query plan asks for the same few boundaries
   * again and again (per point and per tier), and each computation allocates dates and keys.
   */
  private readonly coarseFloors = { day: new Map<number, number>(), week: new Map<number, number>(), month: new Map<number, number>() };
  private readonly coarseNexts = { day: new Map<number, number>(), week: new Map<number, number>(), month: new Map<number, number>() };
  private lastHourStart = NaN;
  private lastHourEnd = NaN;

  constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Offset (local − UTC, ms) in force at `ts`, straight from Intl. */
  exactOffset(ts: number): number {
    const whole = Math.floor(ts / 1000) * 1000;
    let year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, bc = false;
    for (const part of this.format.formatToParts(whole)) {
      switch (part.type) {
        case 'year': year = Number(part.value); break;
        case 'month': month = Number(part.value); break;
        case 'day': day = Number(part.value); break;
        case 'hour': hour = Number(part.value) % 24; break;
        case 'minute': minute = Number(part.value); break;
        case 'second': second = Number(part.value); break;
        case 'era': bc = part.value.startsWith('B'); break;
      }
    }
    if (bc) year = 1 - year;
    return utcFromFields(year, month, day, hour, minute, second) - whole;
  }

  offset(ts: number): number {
    const stable = this.stableOffsetAround(ts);
    return Number.isNaN(stable) ? this.exactOffset(ts) : stable;
  }

  private stableOffsetAround(ts: number): number {
    const utcHour = Math.floor(ts / HOUR);
    const cached = this.stableOffsets.get(utcHour);
    if (cached !== undefined) return cached;
    const start = utcHour * HOUR;
    const before = this.exactOffset(start - HOUR);
    const after = this.exactOffset(start + HOUR - 1000);
    return remember(this.stableOffsets, utcHour, before === after && this.exactOffset(start) === before ? before : NaN);
  }

  /** Wall-clock fields of `ts` encoded as a UTC instant. */
  wall(ts: number): number {
    return ts + this.offset(ts);
  }

  floorHour(ts: number): number {
    if (ts >= this.lastHourStart && ts < this.lastHourEnd) return this.lastHourStart;
    const stable = this.stableOffsetAround(ts);
    if (!Number.isNaN(stable)) {
      // No transition in [ts - 1 h, ts]: the last HH:00 under this offset is the bucket start.
      const start = ts - mod(ts + stable, HOUR);
      // Remember the bucket only when its whole hour is transition-free too.
      if (this.stableOffsetAround(start + HOUR - 1) === stable) {
        this.lastHourStart = start;
        this.lastHourEnd = start + HOUR;
      }
      return start;
    }
    return this.floorHourNearTransition(ts);
  }

  private floorHourNearTransition(ts: number): number {
    const offset = this.exactOffset(ts);
    const candidate = ts - mod(ts + offset, HOUR);
    if (this.exactOffset(candidate) === offset) return candidate;
    // The offset changed in (candidate, ts]: find the first instant with the current offset.
    let lo = candidate; // old offset
    let hi = ts; // current offset
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.exactOffset(mid) === offset) hi = mid;
      else lo = mid;
    }
    const transition = hi;
    const wallAt = transition + offset;
    const wallBefore = transition - 1 + this.exactOffset(transition - 1);
    const readsWholeHour = mod(wallAt, HOUR) === 0;
    const hourChanged = Math.floor(wallAt / HOUR) !== Math.floor(wallBefore / HOUR);
    if (readsWholeHour || hourChanged) return transition;
    return this.floorHourNearTransition(transition - 1);
  }

  nextHour(start: number): number {
    const from = this.floorHour(start);
    let probe = from + HOUR;
    let boundary = this.floorHour(probe);
    while (boundary <= from) {
      // The bucket is longer than an hour (a fall-back by less than an hour).
      probe += HOUR / 4;
      boundary = this.floorHour(probe);
    }
    for (;;) {
      const previous = this.floorHour(boundary - 1);
      if (previous <= from) return boundary;
      boundary = previous;
    }
  }

  floorCoarse(ts: number, granularity: CoarseGranularity): number {
    const memo = this.coarseFloors[granularity];
    const known = memo.get(ts);
    if (known !== undefined) return known;
    return remember(memo, ts, this.startOfDate(firstDayOfBucket(this.bucketDate(ts), granularity)));
  }

  nextCoarse(bucketStart: number, granularity: CoarseGranularity): number {
    const memo = this.coarseNexts[granularity];
    const known = memo.get(bucketStart);
    if (known !== undefined) return known;
    const first = firstDayOfBucket(this.bucketDate(bucketStart), granularity);
    const next =
      granularity === 'day' ? addDays(first, 1)
      : granularity === 'week' ? addDays(first, 7)
      : first.month === 12 ? { year: first.year + 1, month: 1, day: 1 }
      : { year: first.year, month: first.month + 1, day: 1 };
    return remember(memo, bucketStart, this.startOfDate(next));
  }

  /**
   * Local date whose day bucket holds `ts`. Equals the wall-clock date except right after a
   * fall-back that crosses back over midnight, where the new date has already begun.
   */
  bucketDate(ts: number): LocalDate {
    const date = this.localDate(ts);
    const next = addDays(date, 1);
    return ts >= this.startOfDate(next) ? next : date;
  }

  localDate(ts: number): LocalDate {
    const d = new Date(this.wall(ts));
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
  }

  startOfDate(date: LocalDate): number {
    const key = `${date.year}-${date.month}-${date.day}`;
    const start = this.dayStarts.get(key);
    return start !== undefined ? start : remember(this.dayStarts, key, this.computeStartOfDate(date));
  }

  private computeStartOfDate(date: LocalDate): number {
    const midnight = utcFromFields(date.year, date.month, date.day);
    const earlyOffset = this.exactOffset(midnight - BEFORE_MIDNIGHT);
    const lateOffset = this.exactOffset(midnight + AFTER_MIDNIGHT);
    const candidates: number[] = [];
    for (const offset of [earlyOffset, lateOffset]) {
      const t = midnight - offset;
      if (this.exactOffset(t) === offset) candidates.push(t);
    }
    if (candidates.length > 0) return Math.min(...candidates);
    // Midnight was skipped: the date starts at the first instant whose wall clock is past it.
    let lo = midnight - BEFORE_MIDNIGHT;
    let hi = midnight + AFTER_MIDNIGHT;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (mid + this.exactOffset(mid) >= midnight) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}

const zones = new Map<string, Zone>();

function zone(timeZone: string): Zone {
  let z = zones.get(timeZone);
  if (z === undefined) {
    z = new Zone(timeZone); // throws RangeError for unknown zones
    zones.set(timeZone, z);
  }
  return z;
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(utcFromFields(date.year, date.month, date.day) + days * DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** ISO weekday of a calendar date: Monday = 1 … Sunday = 7. */
function isoWeekday(date: LocalDate): number {
  const weekday = new Date(utcFromFields(date.year, date.month, date.day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

function firstDayOfBucket(date: LocalDate, granularity: CoarseGranularity): LocalDate {
  if (granularity === 'day') return date;
  if (granularity === 'week') return addDays(date, 1 - isoWeekday(date));
  return { year: date.year, month: date.month, day: 1 };
}

function formatDate(date: LocalDate): string {
  const year = date.year >= 0 && date.year <= 9999 ? String(date.year).padStart(4, '0') : String(date.year);
  return `${year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

const DATE_PATTERN = /^(-?\d{4,6})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD`; throws RangeError for anything that is not a real calendar date. */
export function parseLocalDate(date: string): LocalDate {
  const match = DATE_PATTERN.exec(date);
  if (match === null) throw new RangeError(`not a YYYY-MM-DD date: "${date}"`);
  const parsed = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  const roundTrip = addDays(parsed, 0);
  if (roundTrip.month !== parsed.month || roundTrip.day !== parsed.day) {
    throw new RangeError(`not a calendar date: "${date}"`);
  }
  return parsed;
}

/** Start of the bucket containing `ts`. */
export function floorBucket(ts: number, granularity: Granularity, timeZone: string): number {
  const z = zone(timeZone);
  return granularity === 'hour' ? z.floorHour(ts) : z.floorCoarse(ts, granularity);
}

/** Start of the bucket after the one starting at (or containing) `bucketStart`. */
export function nextBucket(bucketStart: number, granularity: Granularity, timeZone: string): number {
  const z = zone(timeZone);
  return granularity === 'hour' ? z.nextHour(bucketStart) : z.nextCoarse(bucketStart, granularity);
}

/** Starts of every bucket that overlaps [from, to), ascending. */
export function bucketStartsBetween(from: number, to: number, granularity: Granularity, timeZone: string): number[] {
  const starts: number[] = [];
  if (!(from < to)) return starts;
  for (let b = floorBucket(from, granularity, timeZone); b < to; b = nextBucket(b, granularity, timeZone)) {
    starts.push(b);
  }
  return starts;
}

/** Local calendar date `YYYY-MM-DD` of an instant in the zone. */
export function localDate(ts: number, timeZone: string): string {
  return formatDate(zone(timeZone).localDate(ts));
}

/** UTC instant of local midnight starting the calendar date `YYYY-MM-DD` in the zone. */
export function startOfLocalDate(date: string, timeZone: string): number {
  return zone(timeZone).startOfDate(parseLocalDate(date));
}

/** Local calendar date `days` after (or before, when negative) `date`. */
export function addLocalDays(date: string, days: number): string {
  return formatDate(addDays(parseLocalDate(date), days));
}

/** Offset of the zone at `ts` in minutes (local − UTC), e.g. 330 for Asia/Kolkata. */
export function zoneOffsetMinutes(ts: number, timeZone: string): number {
  return zone(timeZone).offset(ts) / 60_000;
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * `floorBucket(ts, 'hour', zone)` memoized per UTC quarter hour, for per-event hot paths
 * (ingest). Every zone offset in use since 1972 is a multiple of 15 minutes and changes at
 * quarter-hour UTC instants, so all instants of one UTC quarter hour share their local hour.
 */
export function memoizedHourFloor(timeZone: string): (ts: number) => number {
  const bySlot = new Map<number, number>();
  return (ts) => {
    const slot = Math.floor(ts / QUARTER_HOUR_MS);
    let hour = bySlot.get(slot);
    if (hour === undefined) {
      hour = floorBucket(ts, 'hour', timeZone);
      bySlot.set(slot, hour);
    }
    return hour;
  };
}
