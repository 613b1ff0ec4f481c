import type { SentEvent } from '../query/oracle.ts';

/**
 * Events as Unstract's source tables would turn into them, for the alias tests: API
 * deployments and ETL/TASK pipelines (with deployment ids and names) and plain workflow
 * runs, each execution with 1–3 files; LLM calls and page counts linked to their file by
 * `file_execution_id`; HITL reviews; plus request-log events that are not Unstract metrics
 * and must never show up in its dashboard. Deterministic (seeded LCG).
 */

const MINUTE = 60_000;

export const DEPLOYMENTS = [
  { pipeline_type: 'api', deployment_id: 'api-invoices', deployment_name: 'Invoices API', workflow_id: 'wf-invoices', workflow_name: 'Invoices' },
  { pipeline_type: 'api', deployment_id: 'api-kyc', deployment_name: 'KYC API', workflow_id: 'wf-kyc', workflow_name: 'KYC' },
  { pipeline_type: 'etl', deployment_id: 'etl-claims', deployment_name: 'Claims ETL', workflow_id: 'wf-claims', workflow_name: 'Claims' },
  { pipeline_type: 'task', deployment_id: 'task-resumes', deployment_name: 'Resume task', workflow_id: 'wf-resumes', workflow_name: 'Resumes' },
  { pipeline_type: 'workflow', workflow_id: 'wf-contracts', workflow_name: 'Contracts' },
] as const;

export function generateUnstractEvents(seed: number, idPrefix: string, from: number, to: number, executions: number): SentEvent[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const between = (low: number, high: number) => low + Math.floor(next() * (high - low));
  const events: SentEvent[] = [];
  let counter = 0;
  const envelope = (type: string, ts: number): SentEvent => ({ id: `${idPrefix}-${(counter += 1)}`, type, timestamp: new Date(ts).toISOString() });
  for (let n = 0; n < executions; n += 1) {
    const t0 = between(from, to - 30 * MINUTE);
    const deployment = pick(DEPLOYMENTS);
    const executionId = `${idPrefix}-exec-${n}`;
    const files = 1 + Math.floor(next() * 3);
    let t = t0;
    for (let f = 0; f < files; f += 1) {
      const fileExecutionId = `${executionId}-file-${f}`;
      const fileName = `doc-${n}-${f}.pdf`;
      const calls = 1 + Math.floor(next() * 3);
      for (let c = 0; c < calls; c += 1) {
        const input = between(100, 4000);
        const output = between(10, 900);
        events.push({
          ...envelope('llm_call', (t += between(1000, 20_000))),
          model: pick(['gpt-4o', 'gpt-4o-mini']),
          provider: 'openai',
          usage_type: pick(['llm', 'llm', 'llm', 'embedding']),
          reason: pick(['extraction', 'extraction', 'challenge', 'summarize']),
          input_tokens: input,
          output_tokens: output,
          total_tokens: input + output,
          // Costs with float noise when summed (0.1 + 0.2 …), as real prices are.
          cost_usd: pick([0.1, 0.2, 0.0003, 0.00015, 0.01234567]),
          execution_id: executionId,
          file_execution_id: fileExecutionId,
          ...deployment,
        });
      }
      const pages = between(1, 12);
      events.push({ ...envelope('page_usage', (t += 500)), pages, failed_pages: pick([0, 0, 0, 1]), file_name: fileName, execution_id: executionId, file_execution_id: fileExecutionId });
      events.push({
        ...envelope('file_execution', (t += 500)),
        execution_id: executionId,
        file_execution_id: fileExecutionId,
        file_name: fileName,
        status: pick(['COMPLETED', 'COMPLETED', 'COMPLETED', 'ERROR']),
        pages,
        duration_ms: between(1000, 30_000),
      });
      if (next() < 0.15) events.push({ ...envelope('hitl_review', t + 1000), review_id: `${fileExecutionId}-r`, state: pick(['created', 'approved']) });
    }
    events.push({
      ...envelope('workflow_execution', (t += 1000)),
      execution_id: executionId,
      ...deployment,
      status: pick(['COMPLETED', 'COMPLETED', 'ERROR']),
      duration_ms: t - t0,
    });
    events.push({ ...envelope('api_request', t0), endpoint: '/v1/extract', method: 'POST', status_code: pick([200, 200, 500]), latency_ms: between(20, 900) });
  }
  return events.sort((a, b) => Date.parse(String(a['timestamp'])) - Date.parse(String(b['timestamp'])));
}
