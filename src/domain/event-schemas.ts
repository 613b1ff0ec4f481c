import { z } from 'zod';
import type { FieldIssue } from './errors.ts';
import type { Attributes } from './event.ts';
import {
  BUILT_IN_EVENT_FIELDS, COUNTRY_CODE, ENVELOPE_KEYS, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_NUMBER, MAX_ATTRIBUTES, MAX_STRING_VALUE,
  LONE_SURROGATE_MESSAGE, NUL_MESSAGE, NUMBER_BOUND_MESSAGE, isBuiltInEventType, unstorableTextProblem, type BuiltInEventType, type FieldRule,
} from './event-fields.ts';
import { fastParseEvent } from './event-fast-path.ts';
import { parseIsoTimestamp } from './iso-timestamp.ts';

export { parseIsoTimestamp };
export {
  BUILT_IN_EVENT_TYPES, EXECUTION_STATUSES, HITL_STATES, LLM_CALL_STATUSES, MAX_ATTRIBUTE_NUMBER, PIPELINE_TYPES, isBuiltInEventType,
  type BuiltInEventType,
} from './event-fields.ts';

/**
 * Validation of incoming events (SPEC §2): the envelope, flat attributes, and one zod
 * schema per built-in event type, built from the field table in event-fields.ts. Pure: the
 * caller passes `now` and the limits; the derivations that need bundled data (cost, country)
 * happen in the ingest use case.
 */

/** Field name used for problems with the event as a whole. */
export const ROOT_FIELD = '(event)';

/** Two refinements so each problem gets its own message. */
const storable = (schema: z.ZodString) =>
  schema.refine((v) => !v.includes('\u0000'), NUL_MESSAGE).refine((v) => unstorableTextProblem(v) !== LONE_SURROGATE_MESSAGE, LONE_SURROGATE_MESSAGE);

export const envelopeSchema = z.object({
  id: storable(z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters')).optional(),
  type: z
    .string()
    .min(1, 'is required')
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must start with a letter or digit and use only letters, digits, _ . : -'),
  timestamp: z.string(),
  project: storable(z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters')).default('default'),
  tag: storable(z.string().max(128, 'must be at most 128 characters')).default(''),
});

const bounded = (schema: z.ZodNumber) => schema.min(-MAX_ATTRIBUTE_NUMBER, NUMBER_BOUND_MESSAGE).max(MAX_ATTRIBUTE_NUMBER, NUMBER_BOUND_MESSAGE);

/** Accepts any letter case and stores the canonical spelling. */
function caseInsensitiveEnum(values: readonly [string, ...string[]], canonical: (v: string) => string, aliases: Record<string, string> = {}) {
  return z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const normalized = canonical(value.trim());
      return Object.hasOwn(aliases, normalized) ? aliases[normalized] : normalized;
    },
    z.enum(values, { error: () => `must be one of ${values.join(', ')}` }),
  );
}

function zodOf(rule: FieldRule): z.ZodType {
  let schema: z.ZodType;
  switch (rule.kind) {
    case 'text': {
      let textSchema = z.string().max(rule.maxLength ?? MAX_STRING_VALUE);
      if (rule.nonEmpty) textSchema = textSchema.min(1, 'must not be empty');
      schema = rule.upperCase ? z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), textSchema) : textSchema;
      break;
    }
    case 'count':
      schema = bounded(z.number().int('must be an integer').nonnegative('must not be negative'));
      break;
    case 'nonNegative':
      schema = bounded(z.number().nonnegative('must not be negative'));
      break;
    case 'number':
      schema = bounded(z.number());
      break;
    case 'integerRange': {
      const range = `must be between ${rule.min} and ${rule.max}`;
      schema = z.number().int('must be an integer').min(rule.min, range).max(rule.max, range);
      break;
    }
    case 'enum':
      schema = caseInsensitiveEnum(rule.values, rule.letterCase === 'upper' ? (v) => v.toUpperCase() : (v) => v.toLowerCase(), rule.aliases);
      break;
    case 'country':
      schema = z.preprocess(
        (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
        z.string().regex(COUNTRY_CODE, 'must be an ISO 3166 alpha-2 code such as US'),
      );
      break;
  }
  return rule.required ? schema : schema.nullable().optional();
}

/** Built-in event types. Unknown attributes pass through; known ones are typed and normalized. */
export const BUILT_IN_EVENT_SCHEMAS = Object.fromEntries(
  Object.entries(BUILT_IN_EVENT_FIELDS).map(([type, fields]) => [
    type,
    z.looseObject(Object.fromEntries(Object.entries(fields as Record<string, FieldRule>).map(([name, rule]) => [name, zodOf(rule)]))),
  ]),
) as Record<BuiltInEventType, z.ZodObject>;

/** An event whose envelope and attributes are valid; derivations have not run yet. */
export interface ParsedEvent {
  id: string | undefined;
  type: string;
  ts: number;
  project: string;
  tag: string;
  attrs: Attributes;
}

export interface EventLimits {
  now: number;
  /** How far ahead of `now` a timestamp may be. */
  maxFutureSkewMs: number;
  /** How far behind `now` a timestamp may be (raw-event retention). */
  maxAgeMs: number;
  /**
   * Earliest accepted instant when it is later than `now - maxAgeMs`: the start of the oldest
   * local day wholly inside retention, since a day partly expired is never re-aggregated.
   */
  oldestAcceptedMs?: number;
}

export type ParseEventResult = { ok: true; event: ParsedEvent } | { ok: false; errors: FieldIssue[] };

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Human duration for messages: 300000 → "5m", 7776000000 → "90d". */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function zodIssues(error: z.ZodError, source: Record<string, unknown>, prefix: readonly PropertyKey[] = []): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String);
    const field = path.length === 0 ? ROOT_FIELD : path.join('.');
    const missing = path.length === 1 && source[path[0]!] === undefined;
    return { field, message: missing && issue.code === 'invalid_type' ? 'is required' : issue.message };
  });
}

function flatAttributeIssues(raw: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  let attributeCount = 0;
  for (const [key, value] of Object.entries(raw)) {
    if (ENVELOPE_KEYS.has(key)) continue;
    attributeCount += 1;
    if (key.length === 0 || key.length > MAX_ATTRIBUTE_NAME) {
      issues.push({ field: key.length === 0 ? '(empty attribute name)' : key.slice(0, MAX_ATTRIBUTE_NAME), message: `attribute names must be 1 to ${MAX_ATTRIBUTE_NAME} characters` });
      continue;
    }
    if (key === '__proto__') {
      issues.push({ field: key, message: 'is a reserved name' });
      continue;
    }
    const nameProblem = unstorableTextProblem(key);
    if (nameProblem !== null) {
      issues.push({ field: key, message: `attribute names ${nameProblem}` });
      continue;
    }
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'string') {
      if (value.length > MAX_STRING_VALUE) issues.push({ field: key, message: `must be at most ${MAX_STRING_VALUE} characters` });
      else {
        const problem = unstorableTextProblem(value);
        if (problem !== null) issues.push({ field: key, message: problem });
      }
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) issues.push({ field: key, message: 'must be a finite number' });
      else if (Math.abs(value) > MAX_ATTRIBUTE_NUMBER) issues.push({ field: key, message: NUMBER_BOUND_MESSAGE });
      continue;
    }
    issues.push({
      field: key,
      message: `attributes must be flat (string, number, boolean or null), got ${describeValue(value)}`,
    });
  }
  if (attributeCount > MAX_ATTRIBUTES) issues.push({ field: ROOT_FIELD, message: `at most ${MAX_ATTRIBUTES} attributes per event` });
  return issues;
}

function timestampIssue(value: unknown, limits: EventLimits): FieldIssue | number {
  if (value === undefined) return { field: 'timestamp', message: 'is required' };
  if (typeof value !== 'string') return { field: 'timestamp', message: `must be an ISO 8601 string, got ${describeValue(value)}` };
  const ts = parseIsoTimestamp(value);
  if (ts === null) {
    return { field: 'timestamp', message: 'must be an ISO 8601 date-time with a UTC offset or Z, e.g. 2026-03-01T12:00:00Z' };
  }
  if (ts > limits.now + limits.maxFutureSkewMs) {
    return { field: 'timestamp', message: `is more than ${formatDuration(limits.maxFutureSkewMs)} in the future` };
  }
  if (ts < limits.now - limits.maxAgeMs) {
    return { field: 'timestamp', message: `is older than the raw-event retention of ${formatDuration(limits.maxAgeMs)}` };
  }
  if (limits.oldestAcceptedMs !== undefined && ts < limits.oldestAcceptedMs) {
    const day = new Date(limits.oldestAcceptedMs).toISOString();
    return { field: 'timestamp', message: `is before ${day}, the start of the oldest day wholly inside the raw-event retention of ${formatDuration(limits.maxAgeMs)}` };
  }
  return ts;
}

/** Validates one raw event. Every problem found is reported, each naming its field. */
export function parseEvent(raw: unknown, limits: EventLimits): ParseEventResult {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const fast = fastParseEvent(raw as Record<string, unknown>, limits);
    if (fast !== null) return { ok: true, event: fast };
  }
  return parseEventWithZod(raw, limits);
}

/** parseEvent without the fast path; exported so tests can hold the two paths to the same answers. */
export function parseEventWithZod(raw: unknown, limits: EventLimits): ParseEventResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: ROOT_FIELD, message: `an event must be a JSON object, got ${describeValue(raw)}` }] };
  }
  const source = raw as Record<string, unknown>;
  const errors: FieldIssue[] = flatAttributeIssues(source);

  const envelope = envelopeSchema.safeParse(source);
  if (!envelope.success) errors.push(...zodIssues(envelope.error, source).filter((issue) => issue.field !== 'timestamp'));
  const ts = timestampIssue(source['timestamp'], limits);
  if (typeof ts !== 'number') errors.push(ts);

  const type = typeof source['type'] === 'string' ? source['type'] : '';
  let attrs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) if (!ENVELOPE_KEYS.has(key)) attrs[key] = value;
  if (isBuiltInEventType(type)) {
    const typed = BUILT_IN_EVENT_SCHEMAS[type].safeParse(attrs);
    if (typed.success) attrs = typed.data as Record<string, unknown>;
    else errors.push(...zodIssues(typed.error, attrs).filter((issue) => !errors.some((e) => e.field === issue.field)));
  }

  if (errors.length > 0 || !envelope.success || typeof ts !== 'number') return { ok: false, errors };
  const withoutUndefined: Attributes = {};
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) withoutUndefined[key] = value as Attributes[string];
  return {
    ok: true,
    event: {
      id: envelope.data.id,
      type: envelope.data.type,
      ts,
      project: envelope.data.project,
      tag: envelope.data.tag,
      attrs: withoutUndefined,
    },
  };
}
