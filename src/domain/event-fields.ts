/**
 * The typed attributes of each built-in event type, declared once. event-schemas.ts builds the
 * zod schemas from this table (they produce every error message) and event-fast-path.ts builds
 * the plain checks of its fast path from the same table, so the two cannot drift apart.
 */

export const MAX_ATTRIBUTES = 200;
export const MAX_ATTRIBUTE_NAME = 128;
export const MAX_STRING_VALUE = 8192;
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['id', 'type', 'timestamp', 'project', 'tag']);

/**
 * Largest magnitude of any numeric attribute (1e15, still an exact integer in a double). A
 * rollup sums at most one value per event, so a bucket would need about 1e293 events to
 * overflow to Infinity; a larger value is refused at ingest instead of poisoning the sums.
 */
export const MAX_ATTRIBUTE_NUMBER = 1e15;
export const NUMBER_BOUND_MESSAGE = `must be between -${MAX_ATTRIBUTE_NUMBER} and ${MAX_ATTRIBUTE_NUMBER} (1e15), so that sums cannot overflow`;

/**
 * Text that cannot be stored and read back identically: NUL (PostgreSQL text cannot hold it)
 * and lone UTF-16 surrogates (not encodable as UTF-8: PostgreSQL would turn them into U+FFFD
 * or fail, and distinct ids would collapse into one).
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE_TEXT = /[\u0000\p{Cs}]/u;
const LONE_SURROGATE = /\p{Cs}/u;
export const NUL_MESSAGE = 'must not contain the NUL character';
export const LONE_SURROGATE_MESSAGE = 'must not contain lone UTF-16 surrogates (they cannot be stored and read back identically)';

export function isStorableText(value: string): boolean {
  return !UNSTORABLE_TEXT.test(value);
}

/** Why a text cannot be stored, or null when it can. */
export function unstorableTextProblem(value: string): string | null {
  if (!UNSTORABLE_TEXT.test(value)) return null;
  return LONE_SURROGATE.test(value) ? LONE_SURROGATE_MESSAGE : NUL_MESSAGE;
}

export const EXECUTION_STATUSES = ['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'STOPPED', 'ERROR', 'CANCELED'] as const;
export const PIPELINE_TYPES = ['api', 'etl', 'task', 'workflow'] as const;
export const LLM_CALL_STATUSES = ['success', 'error'] as const;
export const HITL_STATES = ['created', 'assigned', 'in_review', 'approved', 'rejected', 'skipped', 'expired'] as const;

/** One typed attribute. `required`: must be present and not null; otherwise null and absence are fine. */
export type FieldRule = { required?: boolean } & (
  | { kind: 'text'; nonEmpty?: boolean; maxLength?: number; upperCase?: boolean }
  | { kind: 'count' }
  | { kind: 'nonNegative' }
  | { kind: 'number' }
  | { kind: 'integerRange'; min: number; max: number }
  | { kind: 'enum'; values: readonly [string, ...string[]]; letterCase: 'upper' | 'lower'; aliases?: Record<string, string> }
  | { kind: 'country' }
);

const text: FieldRule = { kind: 'text' };
const count: FieldRule = { kind: 'count' };
const nonNegative: FieldRule = { kind: 'nonNegative' };
const executionStatus = { kind: 'enum', values: EXECUTION_STATUSES, letterCase: 'upper', aliases: { CANCELLED: 'CANCELED' } } as const;

export const BUILT_IN_EVENT_FIELDS = {
  llm_call: {
    model: { kind: 'text', nonEmpty: true, required: true },
    provider: text, usage_type: text, reason: text,
    input_tokens: count, output_tokens: count, total_tokens: count,
    cost_usd: nonNegative, latency_ms: nonNegative,
    status: { kind: 'enum', values: LLM_CALL_STATUSES, letterCase: 'lower' },
    workflow_id: text, workflow_name: text, execution_id: text, user_id: text,
  },
  page_usage: { pages: { kind: 'count', required: true }, failed_pages: count, file_name: text, execution_id: text },
  workflow_execution: {
    execution_id: text, workflow_id: text, workflow_name: text,
    pipeline_type: { kind: 'enum', values: PIPELINE_TYPES, letterCase: 'lower', aliases: { wf: 'workflow' } },
    status: executionStatus,
    duration_ms: nonNegative,
  },
  file_execution: {
    execution_id: { kind: 'text', nonEmpty: true, required: true },
    file_name: { kind: 'text', nonEmpty: true, required: true },
    status: { ...executionStatus, required: true },
    pages: count, duration_ms: nonNegative,
  },
  hitl_review: { review_id: text, state: { kind: 'enum', values: HITL_STATES, letterCase: 'lower', required: true } },
  api_request: {
    endpoint: text,
    method: { kind: 'text', upperCase: true },
    status_code: { kind: 'integerRange', min: 100, max: 599, required: true },
    latency_ms: nonNegative, model: text, country: { kind: 'country' }, ip: text, cost_usd: nonNegative, user_id: text,
  },
  trace: {
    trace_id: text, operation_type: text, status: text, duration_ms: nonNegative, tokens: count,
    cost_usd: nonNegative, user_id: text, kb_id: text,
  },
  document_event: { document_id: text, event_type: text, duration_ms: nonNegative },
  chat_message: { kb_id: text, response_time_ms: nonNegative, user_id: text },
  gauge: {
    name: { kind: 'text', nonEmpty: true, maxLength: 200, required: true },
    value: { kind: 'number', required: true },
  },
} as const satisfies Record<string, Record<string, FieldRule>>;

export type BuiltInEventType = keyof typeof BUILT_IN_EVENT_FIELDS;
export const BUILT_IN_EVENT_TYPES = Object.keys(BUILT_IN_EVENT_FIELDS) as BuiltInEventType[];

export function isBuiltInEventType(type: string): type is BuiltInEventType {
  return Object.hasOwn(BUILT_IN_EVENT_FIELDS, type);
}

export const COUNTRY_CODE = /^[A-Z]{2}$/;
