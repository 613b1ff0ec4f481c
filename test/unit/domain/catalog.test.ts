import { describe, expect, it } from 'vitest';
import {
  BUILTIN_METRICS,
  buildCatalog,
  gaugeMetricFor,
  normalizeMetricName,
} from '../../../src/domain/metrics/catalog.ts';
import type { MetricDefinition } from '../../../src/domain/metrics/definition.ts';
import { ValidationError } from '../../../src/domain/errors.ts';
import { metricDefinitionSchema } from '../../../src/config/metric-schema.ts';

const byName = new Map(BUILTIN_METRICS.map((m) => [m.name, m]));
const get = (name: string): MetricDefinition => {
  const def = byName.get(name);
  if (def === undefined) throw new Error(`built-in metric ${name} is missing`);
  return def;
};

describe('built-in catalog (SPEC §2)', () => {
  it.each([
    // seed 000/001
    ['documents_processed', 'counter', 'file_execution', { status: 'COMPLETED' }, undefined],
    ['pages_processed', 'sum', 'page_usage', undefined, 'pages'],
    ['failed_pages', 'sum', 'page_usage', undefined, 'failed_pages'],
    ['llm_calls', 'counter', 'llm_call', { usage_type: 'llm' }, undefined],
    ['challenges', 'counter', 'llm_call', { usage_type: 'llm', reason: 'challenge' }, undefined],
    ['summarization_calls', 'counter', 'llm_call', { usage_type: 'llm', reason: 'summarize' }, undefined],
    ['deployed_api_requests', 'counter', 'workflow_execution', { pipeline_type: 'api' }, undefined],
    ['etl_pipeline_executions', 'counter', 'workflow_execution', { pipeline_type: 'etl' }, undefined],
    ['llm_usage', 'sum', 'llm_call', { usage_type: 'llm' }, 'cost_usd'],
    ['prompt_executions', 'counter', 'workflow_execution', undefined, undefined],
    ['hitl_reviews', 'counter', 'hitl_review', { state: 'created' }, undefined],
    ['hitl_completions', 'counter', 'hitl_review', { state: 'approved' }, undefined],
    // seed 002
    ['requests', 'counter', 'api_request', undefined, undefined],
    ['request_errors', 'counter', 'api_request', { status_code: { gte: 400 } }, undefined],
    ['request_latency_ms', 'distribution', 'api_request', undefined, 'latency_ms'],
    ['request_cost_usd', 'sum', 'api_request', undefined, 'cost_usd'],
    // seed 003
    ['trace.count', 'counter', 'trace', undefined, undefined],
    ['trace.duration_ms', 'distribution', 'trace', undefined, 'duration_ms'],
    ['trace.tokens', 'sum', 'trace', undefined, 'tokens'],
    ['trace.cost_usd', 'sum', 'trace', undefined, 'cost_usd'],
    ['llm.call_count', 'counter', 'llm_call', undefined, undefined],
    ['llm.latency_ms', 'distribution', 'llm_call', undefined, 'latency_ms'],
    ['llm.tokens', 'sum', 'llm_call', undefined, 'total_tokens'],
    ['document.count', 'counter', 'document_event', undefined, undefined],
    ['document.duration_ms', 'distribution', 'document_event', undefined, 'duration_ms'],
    ['chat.messages', 'counter', 'chat_message', undefined, undefined],
    ['chat.response_time_ms', 'distribution', 'chat_message', undefined, 'response_time_ms'],
  ] as const)('%s is a %s over %s', (name, kind, event, where, value) => {
    const def = get(name);
    expect(def.kind).toBe(kind);
    expect(def.event).toBe(event);
    expect(def.where).toEqual(where);
    expect(def.value).toBe(value);
  });

  it('has exactly the 29 names of the contract (27 from the seeds, 2 distinct counts from issue 9)', () => {
    expect(BUILTIN_METRICS).toHaveLength(29);
    expect(byName.size).toBe(29);
  });

  it('counts active users over three event types and active workflows, both as unique metrics', () => {
    expect(byName.get('active_users')).toMatchObject({ kind: 'unique', value: 'user_id', events: ['llm_call', 'api_request', 'chat_message'] });
    expect(byName.get('active_workflows')).toMatchObject({ kind: 'unique', event: 'workflow_execution', value: 'workflow_id' });
  });

  it.each([
    ['llm_calls', ['model', 'provider', 'workflow_id']],
    ['challenges', ['model', 'provider', 'workflow_id']],
    ['summarization_calls', ['model', 'provider', 'workflow_id']],
    ['llm_usage', ['model', 'provider', 'workflow_id']],
    ['requests', ['status_code', 'model', 'country', 'endpoint']],
    ['request_errors', ['status_code', 'model', 'country', 'endpoint']],
    ['request_latency_ms', ['status_code', 'model', 'country', 'endpoint']],
    ['request_cost_usd', ['status_code', 'model', 'country', 'endpoint']],
    ['trace.duration_ms', ['operation_type', 'user_id']],
    ['llm.latency_ms', ['model', 'provider', 'user_id']],
    ['document.duration_ms', ['event_type']],
    ['chat.response_time_ms', ['kb_id', 'user_id']],
  ] as const)('%s breaks down by %j', (name, dims) => {
    expect(get(name).dimensions).toEqual(dims);
  });

  it('prices cost metrics in USD and only sketches distributions', () => {
    for (const name of ['llm_usage', 'request_cost_usd', 'trace.cost_usd']) expect(get(name).unit).toBe('USD');
    for (const def of BUILTIN_METRICS) {
      if (def.kind === 'distribution') expect(def.unit).toBe('ms');
    }
  });

  it('is valid against the config schema custom metrics use', () => {
    for (const def of BUILTIN_METRICS) {
      const parsed = metricDefinitionSchema.safeParse(def);
      expect(parsed.success, `${def.name}: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      expect(def.category).not.toBe('');
      expect(def.description).not.toBe('');
    }
  });
});

describe('buildCatalog', () => {
  const custom: MetricDefinition = {
    name: 'big_invoices', kind: 'counter', event: 'invoice', where: { amount: { gte: 1000 } },
    dimensions: ['currency'], unit: 'invoices', category: 'custom', description: 'Invoices of 1000 or more',
  };

  it('appends custom metrics to the built-ins', () => {
    const catalog = buildCatalog([custom]);
    expect(catalog).toHaveLength(BUILTIN_METRICS.length + 1);
    expect(catalog.at(-1)).toBe(custom);
  });

  it('rejects a custom metric that reuses a built-in name, naming the field', () => {
    const clash = { ...custom, name: 'llm_calls' };
    expect(() => buildCatalog([clash])).toThrow(ValidationError);
    expect(() => buildCatalog([clash])).toThrow(/metrics\[0\]\.name.*duplicate metric name "llm_calls".*built-in/);
  });

  it('rejects two custom metrics with one name', () => {
    expect(() => buildCatalog([custom, { ...custom }])).toThrow(/metrics\[1\]\.name: duplicate metric name "big_invoices": already defined as metrics\[0\]/);
  });

  it('rejects names outside the metric-name pattern', () => {
    expect(() => buildCatalog([{ ...custom, name: 'Big Invoices' }])).toThrow(/not a valid metric name/);
  });
});

describe('gauge metrics (seed 004)', () => {
  it('derives one gauge metric per name, with the event category', () => {
    const def = gaugeMetricFor({ type: 'gauge', attrs: { name: 'Total Users', value: 42, category: 'users' } });
    expect(def).toMatchObject({
      name: 'total_users', kind: 'gauge', event: 'gauge', value: 'value', where: { name: 'Total Users' },
      dimensions: [], category: 'users',
    });
    expect(metricDefinitionSchema.safeParse(def).success).toBe(true);
  });

  it('falls back to the gauges category and a count unit', () => {
    expect(gaugeMetricFor({ type: 'gauge', attrs: { name: 'active_users_24h', value: 3 } })).toMatchObject({
      name: 'active_users_24h', category: 'gauges', unit: 'count',
    });
  });

  it('gives no metric for other event types or unusable names', () => {
    expect(gaugeMetricFor({ type: 'llm_call', attrs: { name: 'x', value: 1 } })).toBeNull();
    expect(gaugeMetricFor({ type: 'gauge', attrs: { value: 1 } })).toBeNull();
    expect(gaugeMetricFor({ type: 'gauge', attrs: { name: '  ', value: 1 } })).toBeNull();
    expect(gaugeMetricFor({ type: 'gauge', attrs: { name: 12, value: 1 } })).toBeNull();
  });

  it.each([
    ['Total Users', 'total_users'],
    ['storage.bytes', 'storage.bytes'],
    ['  emails/sent (24h) ', 'emails_sent_24h'],
    ['7d_active', 'g_7d_active'],
    ['Ünïcode Café', 'unicode_cafe'],
    ['---', null],
    ['x'.repeat(150), 'x'.repeat(100)],
  ])('normalizes %j to %j', (raw, expected) => {
    expect(normalizeMetricName(raw)).toBe(expected);
  });
});
