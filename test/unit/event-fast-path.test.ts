import { describe, expect, it } from 'vitest';
import { generateDemoBatches } from '../../src/app/demo-events.ts';
import { parseEvent, parseEventWithZod, parseIsoTimestamp } from '../../src/domain/event-schemas.ts';

/**
 * parseEvent takes a hand-written fast path for ordinary valid events and falls back to zod for
 * anything else. Both must give the same answer, attribute order included, for every input:
 * demo events of every type, then each of them with one field swapped for an awkward value.
 */

const END = Date.UTC(2030, 0, 20, 12, 0, 0);
const limits = { now: END, maxFutureSkewMs: 5 * 60_000, maxAgeMs: 90 * 86_400_000, oldestAcceptedMs: END - 30 * 86_400_000 };

const demo = [...generateDemoBatches({ orgId: 'fast', days: 2, eventsPerDay: 400, endMs: END, timezone: 'UTC', seed: 7 }, 200)].flat();

const AWKWARD: unknown[] = [
  undefined, null, '', ' ', 'x', ' success ', 'Success', 'ERROR', 'completed', 'Cancelled', 'cancelled', 'wf', 'WF', 'API',
  'approved', 'APPROVED', 'constructor', '__proto__', 'us', ' de ', 'USA', 'ß', 'get', 'a\u0000b', 'x'.repeat(129),
  'x'.repeat(201), 'x'.repeat(8192), 'x'.repeat(8193), 'ß'.repeat(4097), 0, -0, -1, 1.5, 99, 100, 599, 600, 2 ** 53, 2 ** 60,
  Number.NaN, Number.POSITIVE_INFINITY, true, false, {}, [], ['a'], { a: 1 },
  '2030-01-20T11:00:00Z', '2030-01-20T11:00:00.250Z', '2030-01-20T11:00:00.25Z', '2030-01-20 11:00:00Z', '2030-01-20T11:00:00z',
  '2030-01-20T13:00:00+02:00', '2030-02-30T00:00:00.000Z', '2029-12-01T00:00:00.000Z', '2030-01-20T12:06:00.000Z',
  '2030-01-20T11:0a:00.000Z', '2030-01-20T11:00:00.1a3Z', '0099-01-01T00:00:00Z', '2030-01-20T24:00:00.000Z',
  '2030-01-20T11:60:00Z', '2030-01-20T11:00:60Z', '2030-13-20T11:00:00Z', '2030-00-20T11:00:00Z', '2030-01-00T11:00:00Z',
  '\ud800', 'a\udc00b', '😀', 1e15, -1e15, 1e15 + 2, -1e16, 1e308,
  'custom_type', 'bad type', '9lives', 'a'.repeat(65), 'llm_call', 'gauge', 'file_execution',
];

const EXTRA_KEYS = ['id', 'type', 'timestamp', 'project', 'tag', 'status', 'state', 'country', 'method', 'name', 'value', 'extra', '', 'k'.repeat(129), '__proto__', 'constructor'];

function expectSameAnswer(raw: unknown): void {
  const fast = parseEvent(raw, limits);
  const zod = parseEventWithZod(raw, limits);
  expect(fast).toEqual(zod);
  if (fast.ok && zod.ok) expect(Object.keys(fast.event.attrs)).toEqual(Object.keys(zod.event.attrs));
}

describe('parseEvent fast path', () => {
  it('accepts every demo event exactly as the zod path does', () => {
    for (const event of demo) expectSameAnswer(event);
    expect(demo.every((event) => parseEvent(event, limits).ok)).toBe(true);
  });

  it('agrees with the zod path when one field holds an awkward value', () => {
    const samples = new Map<string, Record<string, unknown>>();
    for (const event of demo) if (!samples.has(event.type)) samples.set(event.type, event);
    samples.set('custom', { id: 'c1', type: 'custom_metric', timestamp: '2030-01-20T11:00:00Z', a: 1, b: 'x' });
    expect(samples.size).toBeGreaterThanOrEqual(11);
    for (const sample of samples.values()) {
      for (const key of [...Object.keys(sample), ...EXTRA_KEYS]) {
        for (const value of AWKWARD) {
          const mutated: Record<string, unknown> = { ...sample };
          if (key === '__proto__') Object.defineProperty(mutated, key, { value, enumerable: true, configurable: true, writable: true });
          else mutated[key] = value;
          expectSameAnswer(mutated);
          const { [key]: _removed, ...without } = mutated;
          expectSameAnswer(without);
        }
      }
    }
  });

  it('agrees on events with too many attributes and on non-objects', () => {
    const wide: Record<string, unknown> = { type: 'custom_metric', timestamp: '2030-01-20T11:00:00Z' };
    for (let i = 0; i < 200; i++) wide[`a${i}`] = i;
    expectSameAnswer(wide);
    expectSameAnswer({ ...wide, one_more: 1 });
    for (const raw of [null, 1, 'x', [], [{ type: 'gauge' }]]) expectSameAnswer(raw);
    const inherited = Object.create({ model: 'inherited' }) as Record<string, unknown>;
    Object.assign(inherited, { type: 'llm_call', timestamp: '2030-01-20T11:00:00Z' });
    expectSameAnswer(inherited);
  });
});

/** The regex-only parser the fast shapes must agree with (the reference implementation). */
function referenceTimestamp(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3));
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || hour > 23 || minute > 59 || second > 59 || day < 1 || day > days) return null;
  let offset = 0;
  if (m[8] === undefined) {
    const h = Number(m[10]);
    const mm = m[11] === undefined ? 0 : Number(m[11]);
    if (h > 23 || mm > 59) return null;
    offset = (m[9] === '-' ? -1 : 1) * (h * 60 + mm);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000;
}

describe('parseIsoTimestamp fast shapes', () => {
  it('agrees with the regex parser on toISOString-like text, valid or not', () => {
    const texts: string[] = [];
    for (const year of ['2030', '2028', '1900', '2000', '0099', '9999', '20a0'])
      for (const month of ['01', '02', '12', '13', '00', '1x'])
        for (const day of ['01', '28', '29', '30', '31', '32', '00'])
          for (const time of ['00:00:00', '23:59:59', '24:00:00', '12:60:00', '12:00:60', '1:00:000'])
            for (const fraction of ['', '.000', '.999', '.5', '.12a', ',123'])
              for (const zone of ['Z', 'z', '+00:00', ''])
                texts.push(`${year}-${month}-${day}T${time}${fraction}${zone}`);
    texts.push('2030-01-20T11:00:00.000Zx', '2030-01-20X11:00:00.000Z', '2030/01/20T11:00:00.000Z', '2030-01-20T11-00:00.000Z');
    for (const text of texts) expect([text, parseIsoTimestamp(text)]).toEqual([text, referenceTimestamp(text)]);
  });
});
