import type { MetricDefinition } from './definition.ts';
import type { AttributeValue } from '../event.ts';
import { ValidationError } from '../errors.ts';
import type { GoodDirection } from '../compare.ts';

/**
 * The built-in catalog (SPEC §2). Names are API contract: renaming one breaks dashboards,
 * reports and scripts. Each entry is plain data, the same shape a config file declares.
 */

const LLM_DIMENSIONS = ['model', 'provider', 'workflow_id'];
const REQUEST_DIMENSIONS = ['status_code', 'model', 'country', 'endpoint'];
const TRACE_DIMENSIONS = ['operation_type', 'user_id'];
const LLM_SPAN_DIMENSIONS = ['model', 'provider', 'user_id'];
const CHAT_DIMENSIONS = ['kb_id', 'user_id'];

type Spec = Omit<MetricDefinition, 'dimensions' | 'good_direction'> & { dimensions?: string[]; good_direction: GoodDirection };

function metric(spec: Spec): MetricDefinition {
  return { ...spec, dimensions: spec.dimensions ?? [] };
}

/** Seed 000/001: the Unstract usage dashboard. */
const USAGE_METRICS: MetricDefinition[] = [
  metric({
    name: 'documents_processed', label: 'Documents processed', good_direction: 'up', kind: 'counter', event: 'file_execution', where: { status: 'COMPLETED' },
    unit: 'documents', category: 'documents', description: 'Documents whose latest file execution status is COMPLETED',
  }),
  metric({
    name: 'pages_processed', label: 'Pages processed', good_direction: 'up', kind: 'sum', event: 'page_usage', value: 'pages',
    unit: 'pages', category: 'documents', description: 'Pages extracted from documents',
  }),
  metric({
    name: 'failed_pages', label: 'Failed pages', good_direction: 'down', kind: 'sum', event: 'page_usage', value: 'failed_pages',
    unit: 'pages', category: 'documents', description: 'Pages that failed during processing',
  }),
  metric({
    name: 'llm_calls', label: 'LLM calls (usage records)', good_direction: 'up', kind: 'counter', event: 'llm_call', where: { usage_type: 'llm' }, dimensions: LLM_DIMENSIONS,
    unit: 'calls', category: 'llm', description: 'LLM calls with usage_type "llm" (Unstract\'s usage records: extraction, challenge and summarization; embedding calls excluded)',
  }),
  metric({
    name: 'challenges', label: 'Challenge calls', good_direction: 'neutral', kind: 'counter', event: 'llm_call', where: { usage_type: 'llm', reason: 'challenge' },
    dimensions: LLM_DIMENSIONS, unit: 'calls', category: 'llm', description: 'LLM calls for challenge/verification',
  }),
  metric({
    name: 'summarization_calls', label: 'Summarization calls', good_direction: 'up', kind: 'counter', event: 'llm_call', where: { usage_type: 'llm', reason: 'summarize' },
    dimensions: LLM_DIMENSIONS, unit: 'calls', category: 'llm', description: 'LLM calls for summarization',
  }),
  metric({
    name: 'deployed_api_requests', label: 'Deployed API executions', good_direction: 'up', kind: 'counter', event: 'workflow_execution', where: { pipeline_type: 'api' },
    dimensions: ['workflow_id'], unit: 'executions', category: 'workflows', description: 'Executions of deployed API workflows',
  }),
  metric({
    name: 'etl_pipeline_executions', label: 'ETL pipeline executions', good_direction: 'up', kind: 'counter', event: 'workflow_execution', where: { pipeline_type: 'etl' },
    dimensions: ['workflow_id'], unit: 'executions', category: 'workflows', description: 'ETL pipeline workflow executions',
  }),
  metric({
    name: 'llm_usage', label: 'LLM cost (usage records)', good_direction: 'down', kind: 'sum', event: 'llm_call', where: { usage_type: 'llm' }, value: 'cost_usd',
    dimensions: LLM_DIMENSIONS, unit: 'USD', category: 'llm', description: 'Cost in USD of the LLM calls with usage_type "llm" (provided, or estimated from the bundled price table)',
  }),
  metric({
    name: 'prompt_executions', label: 'Workflow executions (all types)', good_direction: 'up', kind: 'counter', event: 'workflow_execution', dimensions: ['pipeline_type'],
    unit: 'executions', category: 'workflows', description: 'Workflow and prompt executions of every pipeline type',
  }),
  metric({
    name: 'hitl_reviews', label: 'HITL reviews started', good_direction: 'neutral', kind: 'counter', event: 'hitl_review', where: { state: 'created' },
    unit: 'reviews', category: 'hitl', description: 'Human-in-the-loop reviews started',
  }),
  metric({
    name: 'hitl_completions', label: 'HITL reviews approved', good_direction: 'up', kind: 'counter', event: 'hitl_review', where: { state: 'approved' },
    unit: 'reviews', category: 'hitl', description: 'Human-in-the-loop reviews approved',
  }),
];

/** Seed 002: request-log dashboard. */
const REQUEST_METRICS: MetricDefinition[] = [
  metric({
    name: 'requests', label: 'API requests', good_direction: 'up', kind: 'counter', event: 'api_request', dimensions: REQUEST_DIMENSIONS,
    unit: 'requests', category: 'api', description: 'API requests served',
  }),
  metric({
    name: 'request_errors', label: 'API request errors', good_direction: 'down', kind: 'counter', event: 'api_request', where: { status_code: { gte: 400 } },
    dimensions: REQUEST_DIMENSIONS, unit: 'requests', category: 'api', description: 'API requests answered with status 400 or above',
  }),
  metric({
    name: 'request_latency_ms', label: 'API request latency', good_direction: 'down', kind: 'distribution', event: 'api_request', value: 'latency_ms',
    dimensions: REQUEST_DIMENSIONS, unit: 'ms', category: 'api', description: 'Time to answer an API request (api_request events\' latency_ms): your service\'s own endpoints, not the LLM calls',
  }),
  metric({
    name: 'request_cost_usd', label: 'API request cost', good_direction: 'down', kind: 'sum', event: 'api_request', value: 'cost_usd',
    dimensions: REQUEST_DIMENSIONS, unit: 'USD', category: 'api', description: 'Cost in USD reported on api_request events',
  }),
];

/** Seed 003: observability aggregation worker. */
const OBSERVABILITY_METRICS: MetricDefinition[] = [
  metric({
    name: 'trace.count', label: 'Traces', good_direction: 'up', kind: 'counter', event: 'trace', dimensions: TRACE_DIMENSIONS,
    unit: 'traces', category: 'traces', description: 'Traces recorded',
  }),
  metric({
    name: 'trace.duration_ms', label: 'Trace duration', good_direction: 'down', kind: 'distribution', event: 'trace', value: 'duration_ms', dimensions: TRACE_DIMENSIONS,
    unit: 'ms', category: 'traces', description: 'Trace duration',
  }),
  metric({
    name: 'trace.tokens', label: 'Trace tokens', good_direction: 'neutral', kind: 'sum', event: 'trace', value: 'tokens', dimensions: TRACE_DIMENSIONS,
    unit: 'tokens', category: 'traces', description: 'Tokens reported on trace events (a trace\'s own total, not the sum of its LLM calls)',
  }),
  metric({
    name: 'trace.cost_usd', label: 'Trace cost', good_direction: 'down', kind: 'sum', event: 'trace', value: 'cost_usd', dimensions: TRACE_DIMENSIONS,
    unit: 'USD', category: 'traces', description: 'Cost in USD reported on trace events',
  }),
  metric({
    name: 'llm.call_count', label: 'LLM calls (all usage types)', good_direction: 'up', kind: 'counter', event: 'llm_call', dimensions: LLM_SPAN_DIMENSIONS,
    unit: 'calls', category: 'llm', description: 'Every llm_call event whatever its usage_type (embedding and other calls included), as the tracing/OTLP view counts them; "LLM calls (usage records)" counts usage_type "llm" only',
  }),
  metric({
    name: 'llm.latency_ms', label: 'LLM call latency', good_direction: 'down', kind: 'distribution', event: 'llm_call', value: 'latency_ms', dimensions: LLM_SPAN_DIMENSIONS,
    unit: 'ms', category: 'llm', description: 'Time an LLM call took (llm_call events\' latency_ms), all usage types; "API request latency" is your service\'s endpoints',
  }),
  metric({
    name: 'llm.tokens', label: 'LLM tokens (all usage types)', good_direction: 'neutral', kind: 'sum', event: 'llm_call', value: 'total_tokens', dimensions: LLM_SPAN_DIMENSIONS,
    unit: 'tokens', category: 'llm', description: 'Input + output tokens of every llm_call event',
  }),
  metric({
    name: 'document.count', label: 'Document events', good_direction: 'up', kind: 'counter', event: 'document_event', dimensions: ['event_type'],
    unit: 'events', category: 'documents', description: 'Document processing events',
  }),
  metric({
    name: 'document.duration_ms', label: 'Document processing time', good_direction: 'down', kind: 'distribution', event: 'document_event', value: 'duration_ms',
    dimensions: ['event_type'], unit: 'ms', category: 'documents', description: 'Document processing time',
  }),
  metric({
    name: 'chat.messages', label: 'Chat messages', good_direction: 'up', kind: 'counter', event: 'chat_message', dimensions: CHAT_DIMENSIONS,
    unit: 'messages', category: 'chat', description: 'Chat messages answered',
  }),
  metric({
    name: 'chat.response_time_ms', label: 'Chat response time', good_direction: 'down', kind: 'distribution', event: 'chat_message', value: 'response_time_ms',
    dimensions: CHAT_DIMENSIONS, unit: 'ms', category: 'chat', description: 'Chat response time',
  }),
];

/** Issue 9 / seed 004: distinct counts, exact for any range (merged sketches, never summed). */
const DISTINCT_METRICS: MetricDefinition[] = [
  metric({
    name: 'active_users', label: 'Active users', kind: 'unique', event: 'llm_call', events: ['llm_call', 'api_request', 'chat_message'], value: 'user_id',
    unit: 'users', category: 'users', good_direction: 'up', description: 'Distinct users seen in LLM calls, API requests and chat messages',
  }),
  metric({
    name: 'active_workflows', label: 'Active workflows', kind: 'unique', event: 'workflow_execution', value: 'workflow_id',
    unit: 'workflows', category: 'workflows', good_direction: 'up', description: 'Distinct workflows executed',
  }),
];

export const BUILTIN_METRICS: readonly MetricDefinition[] = Object.freeze([
  ...USAGE_METRICS,
  ...REQUEST_METRICS,
  ...OBSERVABILITY_METRICS,
  ...DISTINCT_METRICS,
]);

export const GAUGE_EVENT = 'gauge';
export const DEFAULT_GAUGE_CATEGORY = 'gauges';
const METRIC_NAME = /^[a-z][a-z0-9_.]{0,99}$/;

/** Maps a free-form gauge name onto the metric-name pattern (`Total Users` → `total_users`). */
export function normalizeMetricName(raw: string): string | null {
  const cleaned = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_.]+|[_.]+$/g, '');
  if (cleaned === '') return null;
  const name = /^[a-z]/.test(cleaned) ? cleaned : `g_${cleaned}`;
  return name.slice(0, 100);
}

function nonEmptyString(value: AttributeValue | undefined): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * The gauge metric a `gauge` event reports (seed 004): one metric per distinct name, reading
 * the `value` attribute. Null when the event carries no usable name.
 */
export function gaugeMetricFor(event: { type: string; attrs: Record<string, AttributeValue> }): MetricDefinition | null {
  if (event.type !== GAUGE_EVENT) return null;
  const rawName = event.attrs['name'];
  if (typeof rawName !== 'string') return null;
  const name = normalizeMetricName(rawName);
  if (name === null) return null;
  return {
    name,
    kind: 'gauge',
    event: GAUGE_EVENT,
    where: { name: rawName },
    value: 'value',
    dimensions: [],
    unit: nonEmptyString(event.attrs['unit']) ?? 'count',
    category: nonEmptyString(event.attrs['category']) ?? DEFAULT_GAUGE_CATEGORY,
    // A reading such as total users is context, not a score: no colour unless configured.
    good_direction: 'neutral',
    description: `Gauge "${rawName}": the last reading in each bucket`,
  };
}

/** Built-ins plus custom metrics; a name may be defined only once. */
export function buildCatalog(custom: readonly MetricDefinition[]): MetricDefinition[] {
  const seen = new Map<string, string>();
  for (const def of BUILTIN_METRICS) seen.set(def.name, 'a built-in metric');
  custom.forEach((def, index) => {
    const field = `metrics[${index}].name`;
    if (!METRIC_NAME.test(def.name)) {
      throw ValidationError.field(field, `"${def.name}" is not a valid metric name (lowercase letters, digits, "_" and ".")`);
    }
    const existing = seen.get(def.name);
    if (existing !== undefined) {
      throw ValidationError.field(field, `duplicate metric name "${def.name}": already defined as ${existing}`);
    }
    seen.set(def.name, `metrics[${index}]`);
  });
  return [...BUILTIN_METRICS, ...custom];
}
