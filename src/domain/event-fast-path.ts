import type { Attributes } from './event.ts';
import {
  BUILT_IN_EVENT_FIELDS, COUNTRY_CODE, ENVELOPE_KEYS, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_NUMBER, MAX_ATTRIBUTES, MAX_STRING_VALUE,
  isStorableText, type FieldRule,
} from './event-fields.ts';
import { parseIsoTimestamp } from './iso-timestamp.ts';

/**
 * Fast path of event validation for the common, valid event: plain checks instead of zod. It
 * accepts only what the zod path (event-schemas.ts) accepts and yields the same event, typed
 * attributes first in table order and then the others in input order, as zod's loose objects
 * do. Both are built from the field table in event-fields.ts. Anything unusual returns null
 * and goes through the zod path, so every message about a problem still comes from there.
 * test/unit/event-fast-path.test.ts holds the two to the same answers.
 */

/** A typed attribute's check: the normalized value, or BAIL to leave the event to zod. */
const BAIL = Symbol('bail');
type FastCheck = (value: unknown) => unknown;

interface FastField {
  name: string;
  required: boolean;
  check: FastCheck;
}

const isBoundedNumber = (v: unknown): v is number => typeof v === 'number' && v >= -MAX_ATTRIBUTE_NUMBER && v <= MAX_ATTRIBUTE_NUMBER;

/** The check of one rule, for a present and non-null value (null is decided by `required`). */
function checkOf(rule: FieldRule): FastCheck {
  switch (rule.kind) {
    case 'text': {
      const min = rule.nonEmpty ? 1 : 0;
      const max = rule.maxLength ?? MAX_STRING_VALUE;
      return (v) => {
        if (typeof v !== 'string') return BAIL;
        const value = rule.upperCase ? v.toUpperCase() : v;
        return value.length >= min && value.length <= max ? value : BAIL;
      };
    }
    case 'count':
      return (v) => (isBoundedNumber(v) && Number.isInteger(v) && v >= 0 ? v : BAIL);
    case 'nonNegative':
      return (v) => (isBoundedNumber(v) && v >= 0 ? v : BAIL);
    case 'number':
      return (v) => (isBoundedNumber(v) ? v : BAIL);
    case 'integerRange':
      return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= rule.min && v <= rule.max ? v : BAIL);
    case 'enum': {
      const allowed = new Set<string>(rule.values);
      const aliases: Record<string, string> = rule.aliases ?? {};
      return (v) => {
        if (typeof v !== 'string') return BAIL;
        const trimmed = v.trim();
        const normalized = rule.letterCase === 'upper' ? trimmed.toUpperCase() : trimmed.toLowerCase();
        const value = Object.hasOwn(aliases, normalized) ? aliases[normalized]! : normalized;
        return allowed.has(value) ? value : BAIL;
      };
    }
    case 'country':
      return (v) => {
        if (typeof v !== 'string') return BAIL;
        const value = v.trim().toUpperCase();
        return COUNTRY_CODE.test(value) ? value : BAIL;
      };
  }
}

const FIELDS_BY_TYPE: ReadonlyMap<string, readonly FastField[]> = new Map(
  Object.entries(BUILT_IN_EVENT_FIELDS).map(([type, fields]) => [
    type,
    Object.entries(fields as Record<string, FieldRule>).map(([name, rule]) => ({ name, required: rule.required === true, check: checkOf(rule) })),
  ]),
);

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
  if (typeof value !== 'string' || value.length < minLength || value.length > 128 || !isStorableText(value)) return BAIL;
  return value;
}

function fastTimestamp(value: unknown, limits: Limits): number | null {
  if (typeof value !== 'string') return null;
  const ts = parseIsoTimestamp(value);
  if (ts === null || ts > limits.now + limits.maxFutureSkewMs || ts < limits.now - limits.maxAgeMs) return null;
  return limits.oldestAcceptedMs !== undefined && ts < limits.oldestAcceptedMs ? null : ts;
}

/** The valid event, or null when anything about it needs the zod path. */
export function fastParseEvent(source: Record<string, unknown>, limits: Limits): FastEvent | null {
  const type = source['type'];
  if (typeof type !== 'string') return null;
  const fields = FIELDS_BY_TYPE.get(type);
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
      if (!Object.hasOwn(source, field.name)) return null;
      if (value === null) {
        if (field.required) return null;
        attrs[field.name] = null;
        continue;
      }
      const checked = field.check(value);
      if (checked === BAIL) return null;
      attrs[field.name] = checked as Attributes[string];
    }
  }
  let attributeCount = 0;
  for (const key of Object.keys(source)) {
    if (ENVELOPE_KEYS.has(key)) continue;
    attributeCount += 1;
    if (key.length === 0 || key.length > MAX_ATTRIBUTE_NAME || key === '__proto__' || !isStorableText(key)) return null;
    const value = source[key];
    if (typeof value === 'string') {
      if (value.length > MAX_STRING_VALUE || !isStorableText(value)) return null;
    } else if (typeof value === 'number') {
      if (!isBoundedNumber(value)) return null;
    } else if (value !== null && typeof value !== 'boolean') {
      return null;
    }
    if (!Object.hasOwn(attrs, key)) attrs[key] = value;
  }
  if (attributeCount > MAX_ATTRIBUTES) return null;
  return { id, type, ts, project, tag, attrs };
}
