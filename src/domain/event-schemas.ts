import { z } from 'zod';
import type { FieldIssue } from './errors.ts';
import type { Attributes } from './event.ts';
import {
  BAIL, ENVELOPE_KEYS, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTES, MAX_STRING_VALUE, createFastEventParser, fastCount, fastEnum,
  fastNonEmpty, fastNonNegative, fastRequired, fastText, type FastCheck, type FastField,
} from './event-fast-path.ts';
import { parseIsoTimestamp } from './iso-timestamp.ts';

export { parseIsoTimestamp };

/**
 * Validation of incoming events (SPEC §2): the envelope, flat attributes, and one zod
 * schema per built-in event type. Pure: the caller passes `now` and the limits; the
 * derivations that need bundled data (cost, country) happen in the ingest use case.
 */

/** Field name used for problems with the event as a whole. */
export const ROOT_FIELD = '(event)';


// PostgreSQL text cannot hold U+0000, and a key with it would fail the whole batch there.
const NO_NUL = [(value: string) => !value.includes('\u0000'), 'must not contain the NUL character'] as const;

export const envelopeSchema = z.object({
  id: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').refine(...NO_NUL).optional(),
  type: z
    .string()
    .min(1, 'is required')
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must start with a letter or digit and use only letters, digits, _ . : -'),
  timestamp: z.string(),
  project: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').refine(...NO_NUL).default('default'),
  tag: z.string().max(128, 'must be at most 128 characters').refine(...NO_NUL).default(''),
});

const count = z.number().int('must be an integer').nonnegative('must not be negative');
const nonNegative = z.number().nonnegative('must not be negative');
const text = z.string().max(MAX_STRING_VALUE);
const optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

/** Accepts any letter case and stores the canonical spelling. */
function caseInsensitiveEnum<const T extends readonly [string, ...string[]]>(values: T, canonical: (v: string) => string, aliases: Record<string, T[number]> = {}) {
  return z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const normalized = canonical(value.trim());
      return aliases[normalized] ?? normalized;
    },
    z.enum(values, { error: () => `must be one of ${values.join(', ')}` }),
  );
}

export const EXECUTION_STATUSES = ['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'STOPPED', 'ERROR', 'CANCELED'] as const;
export const PIPELINE_TYPES = ['api', 'etl', 'task', 'workflow'] as const;
export const LLM_CALL_STATUSES = ['success', 'error'] as const;
export const HITL_STATES = ['created', 'assigned', 'in_review', 'approved', 'rejected', 'skipped', 'expired'] as const;

const executionStatus = caseInsensitiveEnum(EXECUTION_STATUSES, (v) => v.toUpperCase(), { CANCELLED: 'CANCELED' });
const pipelineType = caseInsensitiveEnum(PIPELINE_TYPES, (v) => v.toLowerCase(), { wf: 'workflow' });
const llmCallStatus = caseInsensitiveEnum(LLM_CALL_STATUSES, (v) => v.toLowerCase());
const hitlState = caseInsensitiveEnum(HITL_STATES, (v) => v.toLowerCase());
const countryCode = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
  z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code such as US'),
);

/** Built-in event types. Unknown attributes pass through; known ones are typed and normalized. */
export const BUILT_IN_EVENT_SCHEMAS = {
  llm_call: z.looseObject({
    model: text.min(1, 'must not be empty'),
    provider: optional(text),
    usage_type: optional(text),
    reason: optional(text),
    input_tokens: optional(count),
    output_tokens: optional(count),
    total_tokens: optional(count),
    cost_usd: optional(nonNegative),
    latency_ms: optional(nonNegative),
    status: optional(llmCallStatus),
    workflow_id: optional(text),
    workflow_name: optional(text),
    execution_id: optional(text),
    user_id: optional(text),
  }),
  page_usage: z.looseObject({
    pages: count,
    failed_pages: optional(count),
    file_name: optional(text),
    execution_id: optional(text),
  }),
  workflow_execution: z.looseObject({
    execution_id: optional(text),
    workflow_id: optional(text),
    workflow_name: optional(text),
    pipeline_type: optional(pipelineType),
    status: optional(executionStatus),
    duration_ms: optional(nonNegative),
  }),
  file_execution: z.looseObject({
    execution_id: text.min(1, 'must not be empty'),
    file_name: text.min(1, 'must not be empty'),
    status: executionStatus,
    pages: optional(count),
    duration_ms: optional(nonNegative),
  }),
  hitl_review: z.looseObject({
    review_id: optional(text),
    state: hitlState,
  }),
  api_request: z.looseObject({
    endpoint: optional(text),
    method: optional(z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), text)),
    status_code: z.number().int('must be an integer').min(100, 'must be between 100 and 599').max(599, 'must be between 100 and 599'),
    latency_ms: optional(nonNegative),
    model: optional(text),
    country: optional(countryCode),
    ip: optional(text),
    cost_usd: optional(nonNegative),
    user_id: optional(text),
  }),
  trace: z.looseObject({
    trace_id: optional(text),
    operation_type: optional(text),
    status: optional(text),
    duration_ms: optional(nonNegative),
    tokens: optional(count),
    cost_usd: optional(nonNegative),
    user_id: optional(text),
    kb_id: optional(text),
  }),
  document_event: z.looseObject({
    document_id: optional(text),
    event_type: optional(text),
    duration_ms: optional(nonNegative),
  }),
  chat_message: z.looseObject({
    kb_id: optional(text),
    response_time_ms: optional(nonNegative),
    user_id: optional(text),
  }),
  gauge: z.looseObject({
    name: text.min(1, 'must not be empty').max(200),
    value: z.number(),
  }),
} as const;

export type BuiltInEventType = keyof typeof BUILT_IN_EVENT_SCHEMAS;
export const BUILT_IN_EVENT_TYPES = Object.keys(BUILT_IN_EVENT_SCHEMAS) as BuiltInEventType[];

export function isBuiltInEventType(type: string): type is BuiltInEventType {
  return Object.hasOwn(BUILT_IN_EVENT_SCHEMAS, type);
}

/** The fast path's mirror of BUILT_IN_EVENT_SCHEMAS (see event-fast-path.ts): same fields, same rules. */
const FAST_FIELD_CHECKS: Record<BuiltInEventType, Record<string, FastCheck>> = {
  llm_call: {
    model: fastNonEmpty, provider: fastText, usage_type: fastText, reason: fastText, input_tokens: fastCount,
    output_tokens: fastCount, total_tokens: fastCount, cost_usd: fastNonNegative, latency_ms: fastNonNegative,
    status: fastEnum(LLM_CALL_STATUSES, (v) => v.toLowerCase()), workflow_id: fastText, workflow_name: fastText,
    execution_id: fastText, user_id: fastText,
  },
  page_usage: { pages: fastRequired(fastCount), failed_pages: fastCount, file_name: fastText, execution_id: fastText },
  workflow_execution: {
    execution_id: fastText, workflow_id: fastText, workflow_name: fastText,
    pipeline_type: fastEnum(PIPELINE_TYPES, (v) => v.toLowerCase(), { wf: 'workflow' }),
    status: fastEnum(EXECUTION_STATUSES, (v) => v.toUpperCase(), { CANCELLED: 'CANCELED' }), duration_ms: fastNonNegative,
  },
  file_execution: {
    execution_id: fastNonEmpty, file_name: fastNonEmpty,
    status: fastRequired(fastEnum(EXECUTION_STATUSES, (v) => v.toUpperCase(), { CANCELLED: 'CANCELED' })),
    pages: fastCount, duration_ms: fastNonNegative,
  },
  hitl_review: { review_id: fastText, state: fastRequired(fastEnum(HITL_STATES, (v) => v.toLowerCase())) },
  api_request: {
    endpoint: fastText,
    method: (v) => (v === null ? v : typeof v === 'string' && v.toUpperCase().length <= MAX_STRING_VALUE ? v.toUpperCase() : BAIL),
    status_code: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 100 && v <= 599 ? v : BAIL),
    latency_ms: fastNonNegative, model: fastText,
    country: (v) => (v === null ? v : typeof v === 'string' && /^[A-Z]{2}$/.test(v.trim().toUpperCase()) ? v.trim().toUpperCase() : BAIL),
    ip: fastText, cost_usd: fastNonNegative, user_id: fastText,
  },
  trace: {
    trace_id: fastText, operation_type: fastText, status: fastText, duration_ms: fastNonNegative, tokens: fastCount,
    cost_usd: fastNonNegative, user_id: fastText, kb_id: fastText,
  },
  document_event: { document_id: fastText, event_type: fastText, duration_ms: fastNonNegative },
  chat_message: { kb_id: fastText, response_time_ms: fastNonNegative, user_id: fastText },
  gauge: {
    name: (v) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : BAIL),
    value: (v) => (typeof v === 'number' ? v : BAIL),
  },
};

/** Field order and which fields are required are read from zod itself, so the two cannot drift apart. */
const fastParseEvent = createFastEventParser(
  new Map<string, FastField[]>(
    Object.entries(BUILT_IN_EVENT_SCHEMAS).map(([type, schema]) => {
      const checks = FAST_FIELD_CHECKS[type as BuiltInEventType];
      const shape: Record<string, z.ZodType> = schema.shape;
      const fields = Object.entries(shape).map(([name, fieldSchema]) => {
        const check = checks[name];
        if (check === undefined) throw new Error(`no fast check for ${type}.${name}`);
        return { name, required: !fieldSchema.safeParse(undefined).success, check };
      });
      return [type, fields];
    }),
  ),
);

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
      issues.push({ field: key.slice(0, MAX_ATTRIBUTE_NAME), message: `attribute names must be 1 to ${MAX_ATTRIBUTE_NAME} characters` });
      continue;
    }
    if (key === '__proto__') {
      issues.push({ field: key, message: 'is a reserved name' });
      continue;
    }
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'string') {
      if (value.length > MAX_STRING_VALUE) issues.push({ field: key, message: `must be at most ${MAX_STRING_VALUE} characters` });
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) issues.push({ field: key, message: 'must be a finite number' });
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
