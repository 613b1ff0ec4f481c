/**
 * The built-in event types of meterboard (SPEC §2) as TypeScript types, and builders that
 * produce the JSON `POST /api/v1/events` takes. Self-contained on purpose: the client ships
 * without any of the server's code.
 */

export type AttributeValue = string | number | boolean | null;

/** Envelope fields every event may carry; `id` and `timestamp` are filled in when absent. */
export interface EventEnvelope {
  /** Idempotency key (≤ 128 characters). Generated when absent, so a retried batch is stored once. */
  id?: string;
  /** ISO 8601 with an offset or Z, or a Date; defaults to the moment the event is tracked. */
  timestamp?: string | Date;
  project?: string;
  tag?: string;
}

/** Further flat attributes beyond a type's known fields (`timestamp` may be a Date). */
export type Extra = Record<string, AttributeValue | Date | undefined>;

export interface LlmCallFields extends EventEnvelope {
  model: string;
  provider?: string;
  usage_type?: 'llm' | 'embedding' | (string & {});
  reason?: string;
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  /** Computed from the bundled price table when absent and tokens are known. */
  cost_usd?: number;
  latency_ms?: number;
  status?: 'success' | 'error';
  workflow_id?: string;
  workflow_name?: string;
  execution_id?: string;
  user_id?: string;
}

export interface PageUsageFields extends EventEnvelope {
  pages: number;
  failed_pages?: number;
  file_name?: string;
  execution_id?: string;
}

export type ExecutionStatus = 'PENDING' | 'QUEUED' | 'EXECUTING' | 'COMPLETED' | 'STOPPED' | 'ERROR' | 'CANCELED';

export interface WorkflowExecutionFields extends EventEnvelope {
  execution_id?: string;
  workflow_id?: string;
  workflow_name?: string;
  pipeline_type?: 'api' | 'etl' | 'task' | 'workflow';
  status?: ExecutionStatus;
  duration_ms?: number;
}

export interface FileExecutionFields extends EventEnvelope {
  execution_id: string;
  file_name: string;
  status: ExecutionStatus;
  pages?: number;
  duration_ms?: number;
}

export interface HitlReviewFields extends EventEnvelope {
  review_id?: string;
  state: 'created' | 'assigned' | 'in_review' | 'approved' | 'rejected' | 'skipped' | 'expired';
}

export interface ApiRequestFields extends EventEnvelope {
  endpoint?: string;
  method?: string;
  status_code: number;
  latency_ms?: number;
  model?: string;
  /** ISO 3166 alpha-2; the server derives it from `ip` when absent. */
  country?: string;
  ip?: string;
  cost_usd?: number;
  user_id?: string;
}

export interface TraceFields extends EventEnvelope {
  trace_id?: string;
  operation_type?: string;
  status?: string;
  duration_ms?: number;
  tokens?: number;
  cost_usd?: number;
  user_id?: string;
  kb_id?: string;
}

export interface DocumentEventFields extends EventEnvelope {
  document_id?: string;
  event_type?: string;
  duration_ms?: number;
}

export interface ChatMessageFields extends EventEnvelope {
  kb_id?: string;
  response_time_ms?: number;
  user_id?: string;
}

export interface GaugeFields extends EventEnvelope {
  name: string;
  value: number;
}

export interface BuiltInEvents {
  llm_call: LlmCallFields;
  page_usage: PageUsageFields;
  workflow_execution: WorkflowExecutionFields;
  file_execution: FileExecutionFields;
  hitl_review: HitlReviewFields;
  api_request: ApiRequestFields;
  trace: TraceFields;
  document_event: DocumentEventFields;
  chat_message: ChatMessageFields;
  gauge: GaugeFields;
}

export type BuiltInEventType = keyof BuiltInEvents;

/** An event as sent: the envelope with a string timestamp, the type, flat attributes. */
export interface WireEvent {
  id: string;
  type: string;
  timestamp: string;
  project?: string;
  tag?: string;
  [attribute: string]: AttributeValue | undefined;
}

/** Any event, built-in or custom: the type, the envelope, flat attributes. The typed builders check a built-in type's fields. */
export type AnyEvent = { type: BuiltInEventType | (string & {}) } & EventEnvelope & Extra;

function newId(): string {
  return globalThis.crypto.randomUUID();
}

/** Fixes id and timestamp and drops undefined attributes, so what is queued is exactly what is sent. */
export function toWireEvent(event: AnyEvent, now: Date = new Date()): WireEvent {
  const wire: WireEvent = { id: event.id ?? newId(), type: event.type, timestamp: '' };
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined || key === 'id' || key === 'type' || key === 'timestamp') continue;
    wire[key] = value instanceof Date ? value.toISOString() : value;
  }
  const timestamp = event.timestamp ?? now;
  wire.timestamp = timestamp instanceof Date ? timestamp.toISOString() : timestamp;
  return wire;
}

/** Typed builders: `events.llmCall({ model: 'gpt-4o', input_tokens: 12 })` → a WireEvent. */
export const events = {
  llmCall: (fields: LlmCallFields & Extra) => toWireEvent({ ...fields, type: 'llm_call' }),
  pageUsage: (fields: PageUsageFields & Extra) => toWireEvent({ ...fields, type: 'page_usage' }),
  workflowExecution: (fields: WorkflowExecutionFields & Extra) => toWireEvent({ ...fields, type: 'workflow_execution' }),
  fileExecution: (fields: FileExecutionFields & Extra) => toWireEvent({ ...fields, type: 'file_execution' }),
  hitlReview: (fields: HitlReviewFields & Extra) => toWireEvent({ ...fields, type: 'hitl_review' }),
  apiRequest: (fields: ApiRequestFields & Extra) => toWireEvent({ ...fields, type: 'api_request' }),
  trace: (fields: TraceFields & Extra) => toWireEvent({ ...fields, type: 'trace' }),
  documentEvent: (fields: DocumentEventFields & Extra) => toWireEvent({ ...fields, type: 'document_event' }),
  chatMessage: (fields: ChatMessageFields & Extra) => toWireEvent({ ...fields, type: 'chat_message' }),
  gauge: (fields: GaugeFields & Extra) => toWireEvent({ ...fields, type: 'gauge' }),
  custom: (type: string, fields: EventEnvelope & Extra = {}) => toWireEvent({ ...fields, type }),
};
