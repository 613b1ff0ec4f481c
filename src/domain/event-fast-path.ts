import type { Attributes } from './event.ts';
import { parseIsoTimestamp } from './iso-timestamp.ts';

/**
 * Fast path of event validation for the common, valid event: plain checks instead of zod. It
 * accepts only what the zod path (event-schemas.ts) accepts and yields the same event, typed
 * attributes first in schema order and then the others in input order, as zod's loose objects
 * do. Anything unusual returns null and goes through the zod path, so every message about a
 * problem still comes from there. test/unit/event-fast-path.test.ts holds the two to the same answers.
 */

export const MAX_ATTRIBUTES = 200;
export const MAX_ATTRIBUTE_NAME = 128;
export const MAX_STRING_VALUE = 8192;
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['id', 'type', 'timestamp', 'project', 'tag']);

/** A typed attribute's check: the normalized value, or BAIL to leave the event to zod. */
export const BAIL = Symbol('bail');
export type FastCheck = (value: unknown) => unknown;

/** Strings are at most MAX_STRING_VALUE long by the flat-attribute scan every attribute passes. */
export const fastText: FastCheck = (v) => (v === null || typeof v === 'string' ? v : BAIL);
export const fastNonEmpty: FastCheck = (v) => (typeof v === 'string' && v.length > 0 ? v : BAIL);
export const fastCount: FastCheck = (v) => (v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ? v : BAIL);
export const fastNonNegative: FastCheck = (v) => (v === null || (typeof v === 'number' && v >= 0) ? v : BAIL);
export const fastRequired = (check: FastCheck): FastCheck => (v) => (v === null ? BAIL : check(v));

/** Mirrors caseInsensitiveEnum: trimmed, canonical case, then aliases. */
export function fastEnum(values: readonly string[], canonical: (v: string) => string, aliases: Record<string, string> = {}): FastCheck {
  const allowed = new Set(values);
  return (v) => {
    if (v === null) return v;
    if (typeof v !== 'string') return BAIL;
    const normalized = canonical(v.trim());
    const value = Object.hasOwn(aliases, normalized) ? aliases[normalized]! : normalized;
    return allowed.has(value) ? value : BAIL;
  };
}

export interface FastField {
  name: string;
  required: boolean;
  check: FastCheck;
}

/** Same shapes as EventLimits and ParsedEvent in event-schemas.ts. */
interface Limits {
  now: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
  oldestAcceptedMs?: number;
}
interface FastEvent {
  id: string | undefined;
  type: string;
  ts: number;
  project: string;
  tag: string;
  attrs: Attributes;
}

const EVENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

function fastKey(value: unknown, fallback: string, minLength: number): string | typeof BAIL {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length < minLength || value.length > 128 || value.includes('\u0000')) return BAIL;
  return value;
}

function fastTimestamp(value: unknown, limits: Limits): number | null {
  if (typeof value !== 'string') return null;
  const ts = parseIsoTimestamp(value);
  if (ts === null || ts > limits.now + limits.maxFutureSkewMs || ts < limits.now - limits.maxAgeMs) return null;
  return limits.oldestAcceptedMs !== undefined && ts < limits.oldestAcceptedMs ? null : ts;
}

/** `fieldsByType`: each built-in type's typed attributes in schema order. */
export function createFastEventParser(fieldsByType: ReadonlyMap<string, readonly FastField[]>) {
  return function fastParseEvent(source: Record<string, unknown>, limits: Limits): FastEvent | null {
    const type = source['type'];
    if (typeof type !== 'string') return null;
    const fields = fieldsByType.get(type);
    if (fields === undefined && (type.length === 0 || type.length > 64 || !EVENT_TYPE_PATTERN.test(type))) return null;
    const rawId = source['id'];
    const id = rawId === undefined ? undefined : fastKey(rawId, '', 1);
    const project = fastKey(source['project'], 'default', 1);
    const tag = fastKey(source['tag'], '', 0);
    const ts = fastTimestamp(source['timestamp'], limits);
    if (id === BAIL || project === BAIL || tag === BAIL || ts === null) return null;

    const attrs: Attributes = {};
    if (fields !== undefined) {
      for (const field of fields) {
        const value = source[field.name];
        if (value === undefined) {
          if (field.required) return null;
          continue;
        }
        const checked = field.check(value);
        if (checked === BAIL || !Object.hasOwn(source, field.name)) return null;
        attrs[field.name] = checked as Attributes[string];
      }
    }
    let attributeCount = 0;
    for (const key of Object.keys(source)) {
      if (ENVELOPE_KEYS.has(key)) continue;
      attributeCount += 1;
      if (key.length === 0 || key.length > MAX_ATTRIBUTE_NAME || key === '__proto__') return null;
      const value = source[key];
      if (typeof value === 'string') {
        if (value.length > MAX_STRING_VALUE) return null;
      } else if (typeof value === 'number') {
        if (!Number.isFinite(value)) return null;
      } else if (value !== null && typeof value !== 'boolean') {
        return null;
      }
      if (!Object.hasOwn(attrs, key)) attrs[key] = value;
    }
    if (attributeCount > MAX_ATTRIBUTES) return null;
    return { id, type, ts, project, tag, attrs };
  };
}
