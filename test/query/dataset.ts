import type { SentEvent } from './oracle.ts';

/**
 * The query tests' dataset, documented here so failures can be read against it.
 *
 * Deterministic (seeded LCG). Events from 2026-08-25 to 2026-11-19 (UTC): a sparse
 * background over the whole span and a dense stretch from 2026-10-23 to 2026-10-28 around
 * the 25-hour Europe/Zurich day 2026-10-25, including both local 02:00 hours of that night.
 * Kinds: api_request (seed 002 request log: status codes incl. 4xx/5xx, models, countries,
 * latency, cost), executions (a workflow_execution with 1–3 files, each a file_execution
 * possibly superseded by a later status, a page_usage and 1–4 llm_calls), and total_users
 * gauge readings. About a third of the events carry project "alpha" and/or tag "beta".
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DATA_FROM = Date.parse('2026-08-25T00:00:00Z');
export const DATA_TO = Date.parse('2026-11-19T00:00:00Z');
export const DENSE_FROM = Date.parse('2026-10-23T00:00:00Z');
export const DENSE_TO = Date.parse('2026-10-28T00:00:00Z');

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function generateDataset(seed: number, idPrefix: string): SentEvent[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const between = (from: number, to: number) => from + Math.floor(next() * (to - from));
  const events: SentEvent[] = [];
  let counter = 0;
  const id = () => `${idPrefix}-${(counter += 1)}`;
  const envelope = (type: string, ts: number): SentEvent => {
    const event: SentEvent = { id: id(), type, timestamp: new Date(ts).toISOString() };
    if (next() < 0.3) event['project'] = 'alpha';
    if (next() < 0.25) event['tag'] = 'beta';
    return event;
  };

  const apiRequest = (ts: number) => {
    events.push({
      ...envelope('api_request', ts),
      endpoint: pick(['/v1/chat/completions', '/v1/extract', '/v1/embeddings']),
      method: 'POST',
      status_code: pick([200, 200, 200, 200, 200, 201, 400, 401, 404, 500, 503]),
      latency_ms: Math.round((5 + next() ** 3 * 4000) * 10) / 10,
      model: pick(['gpt-4o', 'gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet']),
      country: pick(['US', 'US', 'CH', 'DE', 'IN', 'BR']),
      cost_usd: Math.round(next() * 50_000) / 1_000_000,
    });
  };

  let executionNumber = 0;
  const execution = (ts: number) => {
    executionNumber += 1;
    const executionId = `${idPrefix}-exec-${executionNumber}`;
    const workflow = pick([
      { workflow_id: 'wf-invoices', workflow_name: 'Invoices' },
      { workflow_id: 'wf-contracts', workflow_name: 'Contracts' },
      { workflow_id: 'wf-claims', workflow_name: 'Claims' },
    ]);
    const pipelineType = pick(['api', 'api', 'etl', 'task', 'workflow']);
    events.push({
      ...envelope('workflow_execution', ts),
      execution_id: executionId,
      ...workflow,
      pipeline_type: pipelineType,
      status: pick(['COMPLETED', 'COMPLETED', 'COMPLETED', 'ERROR']),
      duration_ms: between(500, 90_000),
    });
    const files = 1 + Math.floor(next() * 3);
    for (let f = 0; f < files; f += 1) {
      const fileName = `doc-${executionNumber}-${f}.pdf`;
      const fileTs = ts + between(MINUTE, 20 * MINUTE);
      const pages = 1 + Math.floor(next() * 20);
      if (next() < 0.4) {
        events.push({ ...envelope('file_execution', fileTs - between(MINUTE, 10 * MINUTE)), execution_id: executionId, file_name: fileName, status: 'EXECUTING', pages, duration_ms: 0 });
      }
      events.push({
        ...envelope('file_execution', fileTs),
        execution_id: executionId,
        file_name: fileName,
        status: pick(['COMPLETED', 'COMPLETED', 'COMPLETED', 'ERROR']),
        pages,
        duration_ms: between(1000, 60_000),
      });
      events.push({ ...envelope('page_usage', fileTs), execution_id: executionId, file_name: fileName, pages, failed_pages: pick([0, 0, 0, 1, 2]) });
    }
    const calls = 1 + Math.floor(next() * 4);
    for (let c = 0; c < calls; c += 1) {
      const input = between(100, 5000);
      const output = between(10, 1500);
      events.push({
        ...envelope('llm_call', ts + between(0, 15 * MINUTE)),
        model: pick(['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet']),
        provider: pick(['openai', 'anthropic']),
        usage_type: pick(['llm', 'llm', 'llm', 'embedding']),
        reason: pick(['extraction', 'extraction', 'challenge', 'summarize']),
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        cost_usd: Math.round(next() * 20_000) / 1_000_000,
        latency_ms: between(200, 8000),
        status: 'success',
        execution_id: executionId,
        // The first calls name their file (per-file usage); the rest belong to the execution only.
        ...(c < files ? { file_name: `doc-${executionNumber}-${c}.pdf` } : {}),
        ...workflow,
      });
    }
  };

  let users = 1000;
  const gauge = (ts: number) => {
    users += Math.floor(next() * 20) - 5;
    events.push({ ...envelope('gauge', ts), name: 'total_users', value: users, unit: 'users', category: 'users' });
  };

  for (let ts = DATA_FROM; ts < DATA_TO; ts += between(HOUR, 6 * HOUR)) {
    const kind = next();
    if (kind < 0.5) apiRequest(ts);
    else if (kind < 0.85) execution(ts);
    else gauge(ts);
  }
  for (let ts = DENSE_FROM; ts < DENSE_TO; ts += between(MINUTE, 9 * MINUTE)) {
    const kind = next();
    if (kind < 0.6) apiRequest(ts);
    else if (kind < 0.93) execution(ts);
    else gauge(ts);
  }
  // Both local 02:00 hours of 2026-10-25 in Zurich (00:xx and 01:xx UTC) get distinctive traffic.
  for (let i = 0; i < 12; i += 1) apiRequest(Date.parse('2026-10-25T00:00:00Z') + between(0, HOUR));
  for (let i = 0; i < 7; i += 1) apiRequest(Date.parse('2026-10-25T01:00:00Z') + between(0, HOUR));
  return events.filter((event) => Date.parse(event.timestamp) < DATA_TO + HOUR);
}
