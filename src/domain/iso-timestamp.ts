/**
 * ISO 8601 instants as ingest accepts them (SPEC §2): a date-time with `Z` or a UTC offset.
 * Pure, no Date parsing: Date.parse accepts shapes (and local times) the contract refuses.
 */

const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function epochOf(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number, offsetMinutes: number): number | null {
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  // Date.UTC maps years 0-99 to 1900-1999; such instants fail the retention check anyway.
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/** The decimal value of `count` ASCII digits at `start`, or -1 when one is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const [DASH, COLON, DOT, UPPER_T, UPPER_Z] = ['-', ':', '.', 'T', 'Z'].map((c) => c.charCodeAt(0)) as [number, number, number, number, number];

/**
 * `2026-03-01T12:00:00Z` and `2026-03-01T12:00:00.123Z` (what toISOString writes) without the
 * regex: nearly every ingested timestamp has one of these shapes. Undefined means "not this shape".
 */
function parseCanonicalUtc(text: string): number | null | undefined {
  const length = text.length;
  if (length !== 20 && length !== 24) return undefined;
  if (text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || text.charCodeAt(10) !== UPPER_T) return undefined;
  if (text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON || text.charCodeAt(length - 1) !== UPPER_Z) return undefined;
  if (length === 24 && text.charCodeAt(19) !== DOT) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const millis = length === 24 ? digitsAt(text, 20, 3) : 0;
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || millis < 0) return undefined;
  return epochOf(year, month, day, hour, minute, second, millis, 0);
}

/**
 * Epoch ms of an ISO 8601 date-time that carries `Z` or a UTC offset, or null. A bare local
 * time is refused on purpose: without an offset the instant is ambiguous.
 */
export function parseIsoTimestamp(text: string): number | null {
  const canonical = parseCanonicalUtc(text);
  if (canonical !== undefined) return canonical;
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3));
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = m[11] === undefined ? 0 : Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  return epochOf(year, month, day, hour, minute, second, millis, offsetMinutes);
}
