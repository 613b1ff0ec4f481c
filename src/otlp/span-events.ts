import type { OtlpSpan, SpanAttributes, SpanAttributeValue } from './otlp-spans.ts';
import { STATUS_CODE_ERROR } from './otlp-spans.ts';

/**
 * How spans become meterboard events (pure). A span with OpenTelemetry GenAI attributes is an
 * `llm_call`; a root span (no parent) is a `trace`. A span can be both. Event ids derive from
 * the trace and span ids, so a re-sent export stores nothing twice.
 */

/** An event in the shape `POST /api/v1/events` takes; ingest validates and enriches it. */
export type RawEvent = Record<string, SpanAttributeValue>;

/** Operations that are model calls; tool and agent spans carry gen_ai.* too but are not. */
const MODEL_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);
const NON_MODEL_OPERATIONS = new Set(['execute_tool', 'create_agent', 'invoke_agent']);

function attr(span: OtlpSpan, key: string): SpanAttributeValue | undefined {
  return span.attributes[key] ?? span.resource[key] ?? undefined;
}

function text(span: OtlpSpan, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = attr(span, key);
    if (typeof value === 'string' && value.length > 0) return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

/** Token counts pass through as sent (a negative or fractional one is rejected by ingest, naming the field). */
function tokenCount(span: OtlpSpan, key: string): SpanAttributeValue | undefined {
  const value = span.attributes[key];
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return value ?? undefined;
}

export function isLlmSpan(span: OtlpSpan): boolean {
  const a = span.attributes;
  const operation = a['gen_ai.operation.name'];
  if (typeof operation === 'string' && NON_MODEL_OPERATIONS.has(operation) && a['gen_ai.request.model'] === undefined && a['gen_ai.response.model'] === undefined) {
    return false;
  }
  return (
    a['gen_ai.request.model'] !== undefined ||
    a['gen_ai.response.model'] !== undefined ||
    a['gen_ai.usage.input_tokens'] !== undefined ||
    a['gen_ai.usage.output_tokens'] !== undefined ||
    (typeof operation === 'string' && MODEL_OPERATIONS.has(operation))
  );
}

export const isRootSpan = (span: OtlpSpan): boolean => span.parentSpanId === '';

const iso = (ms: number): string => new Date(Math.floor(ms)).toISOString();
const durationMs = (span: OtlpSpan): number => Math.round((span.endMs - span.startMs) * 1000) / 1000;
const statusOf = (span: OtlpSpan): 'success' | 'error' => (span.statusCode === STATUS_CODE_ERROR ? 'error' : 'success');

/** project and tag may be set per span or per resource (`meterboard.project`, `meterboard.tag`). */
function envelope(span: OtlpSpan, id: string, type: string): RawEvent {
  const event: RawEvent = { id, type, timestamp: iso(span.startMs) };
  const project = text(span, 'meterboard.project');
  const tag = text(span, 'meterboard.tag');
  if (project !== undefined) event['project'] = project;
  if (tag !== undefined) event['tag'] = tag;
  return event;
}

function setIfDefined(event: RawEvent, key: string, value: SpanAttributeValue | undefined): void {
  if (value !== undefined) event[key] = value;
}

export const llmEventId = (span: Pick<OtlpSpan, 'traceId' | 'spanId'>): string => `otlp-llm-${span.traceId}-${span.spanId}`;
export const traceEventId = (span: Pick<OtlpSpan, 'traceId' | 'spanId'>): string => `otlp-trace-${span.traceId}-${span.spanId}`;

export function llmCallEvent(span: OtlpSpan): RawEvent {
  const event = envelope(span, llmEventId(span), 'llm_call');
  const operation = text(span, 'gen_ai.operation.name');
  setIfDefined(event, 'model', text(span, 'gen_ai.response.model', 'gen_ai.request.model'));
  setIfDefined(event, 'provider', text(span, 'gen_ai.provider.name', 'gen_ai.system'));
  event['usage_type'] = operation === 'embeddings' ? 'embedding' : 'llm';
  setIfDefined(event, 'operation', operation);
  setIfDefined(event, 'input_tokens', tokenCount(span, 'gen_ai.usage.input_tokens'));
  setIfDefined(event, 'output_tokens', tokenCount(span, 'gen_ai.usage.output_tokens'));
  setIfDefined(event, 'cost_usd', span.attributes['gen_ai.usage.cost'] ?? undefined);
  event['latency_ms'] = durationMs(span);
  event['status'] = statusOf(span);
  setIfDefined(event, 'user_id', text(span, 'user.id', 'enduser.id'));
  setIfDefined(event, 'service', text(span, 'service.name'));
  event['trace_id'] = span.traceId;
  event['span_id'] = span.spanId;
  return event;
}

/** What a trace adds up from its LLM calls. */
export interface TraceUsage {
  tokens: number;
  costUsd: number | null;
}

export function traceEvent(span: OtlpSpan, usage: TraceUsage | undefined): RawEvent {
  const event = envelope(span, traceEventId(span), 'trace');
  event['trace_id'] = span.traceId;
  event['operation_type'] = text(span, 'operation.type', 'gen_ai.operation.name') ?? (span.name || 'unknown');
  event['status'] = statusOf(span);
  event['duration_ms'] = durationMs(span);
  if (usage) {
    event['tokens'] = usage.tokens;
    if (usage.costUsd !== null) event['cost_usd'] = usage.costUsd;
  }
  setIfDefined(event, 'user_id', text(span, 'user.id', 'enduser.id'));
  setIfDefined(event, 'kb_id', text(span, 'kb.id', 'kb_id'));
  setIfDefined(event, 'service', text(span, 'service.name'));
  return event;
}

export type { SpanAttributes };
