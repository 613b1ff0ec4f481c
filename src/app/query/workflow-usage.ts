import { CompensatedSum } from '../../domain/compensated-sum.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { amount, isCompleted, isFailed, text } from './event-attrs.ts';
import { resolveScope, scopeKey, type CommonQueryInput, type ScopeOptions } from './scope.ts';
import { formatInstant } from './time-input.ts';

/**
 * `workflow-usage` (seed 000 `workflow-token-usage`): LLM tokens, calls and cost per
 * workflow with its executions and pages, from raw events. Raw events are kept for a
 * limited time; a range reaching further back is cut to that horizon and says so in
 * `range_truncated`.
 */

export const DEPLOYMENT_TYPES = ['API', 'ETL', 'TASK', 'WF'] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];
const PIPELINE_OF: Record<DeploymentType, string> = { API: 'api', ETL: 'etl', TASK: 'task', WF: 'workflow' };

export interface DeploymentUsage {
  deployment_id: string;
  deployment_name: string | null;
  total_tokens: number;
  total_cost: number;
  call_count: number;
  execution_count: number;
  completed_executions: number;
  failed_executions: number;
  total_pages_processed: number;
  first_execution_at: string | null;
  last_execution_at: string | null;
}

export interface WorkflowUsageResponse {
  start_date: string;
  end_date: string;
  range_truncated: boolean;
  deployments: DeploymentUsage[];
}

export interface WorkflowUsageInput extends CommonQueryInput {
  deployment_type?: DeploymentType | undefined;
}

interface Accumulator {
  name: string | null;
  tokens: number;
  /** Compensated: a plain float sum of hundreds of costs shows noise in the 15th digit. */
  cost: CompensatedSum;
  calls: number;
  executions: number;
  completed: number;
  failed: number;
  pages: number;
  first: number | null;
  last: number | null;
  pipelineTypes: Set<string>;
}

export async function workflowUsage(ctx: QueryDeps, input: WorkflowUsageInput, options: ScopeOptions = {}): Promise<CachedJson> {
  const scope = await resolveScope(ctx, input, options);
  const horizon = ctx.clock.now() - ctx.config.retention.rawMs;
  const truncated = scope.start < horizon;
  const start = truncated ? Math.min(horizon, scope.end) : scope.start;
  const wanted = input.deployment_type === undefined ? null : PIPELINE_OF[input.deployment_type];
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'workflow-usage',
      query: { ...scopeKey(scope), deployment_type: input.deployment_type },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
    },
    async (): Promise<WorkflowUsageResponse> => {
      const events = await ctx.eventReader.scanEvents({
        orgId: scope.org.id,
        from: start,
        to: scope.end,
        types: ['llm_call', 'workflow_execution', 'page_usage'],
        project: scope.project,
        tag: scope.tag,
      });
      const byWorkflow = new Map<string, Accumulator>();
      const workflowOfExecution = new Map<string, string>();
      const pagesByExecution = new Map<string, number>();
      const accumulator = (id: string): Accumulator => {
        let found = byWorkflow.get(id);
        if (!found) {
          found = { name: null, tokens: 0, cost: new CompensatedSum(), calls: 0, executions: 0, completed: 0, failed: 0, pages: 0, first: null, last: null, pipelineTypes: new Set() };
          byWorkflow.set(id, found);
        }
        return found;
      };
      for (const event of events) {
        const attrs = event.attrs;
        if (event.type === 'page_usage') {
          const execution = text(attrs, 'execution_id');
          if (execution !== null) pagesByExecution.set(execution, (pagesByExecution.get(execution) ?? 0) + amount(attrs, 'pages'));
          continue;
        }
        const workflowId = text(attrs, 'workflow_id');
        if (workflowId === null) continue;
        const usage = accumulator(workflowId);
        usage.name ??= text(attrs, 'workflow_name');
        if (event.type === 'llm_call') {
          if (text(attrs, 'usage_type') !== 'llm') continue;
          usage.tokens += amount(attrs, 'total_tokens');
          usage.cost.add(amount(attrs, 'cost_usd'));
          usage.calls += 1;
          continue;
        }
        const status = text(attrs, 'status');
        usage.executions += 1;
        if (isCompleted(status)) usage.completed += 1;
        if (isFailed(status)) usage.failed += 1;
        usage.first = usage.first === null ? event.ts : Math.min(usage.first, event.ts);
        usage.last = usage.last === null ? event.ts : Math.max(usage.last, event.ts);
        const pipelineType = text(attrs, 'pipeline_type');
        if (pipelineType !== null) usage.pipelineTypes.add(pipelineType.toLowerCase());
        const execution = text(attrs, 'execution_id');
        if (execution !== null) workflowOfExecution.set(execution, workflowId);
      }
      for (const [execution, pages] of pagesByExecution) {
        const workflowId = workflowOfExecution.get(execution);
        if (workflowId !== undefined) accumulator(workflowId).pages += pages;
      }
      const deployments = [...byWorkflow.entries()]
        .filter(([, usage]) => wanted === null || usage.pipelineTypes.has(wanted))
        .map(([id, usage]): DeploymentUsage => ({
          deployment_id: id,
          deployment_name: usage.name,
          total_tokens: usage.tokens,
          total_cost: usage.cost.value,
          call_count: usage.calls,
          execution_count: usage.executions,
          completed_executions: usage.completed,
          failed_executions: usage.failed,
          total_pages_processed: usage.pages,
          first_execution_at: usage.first === null ? null : formatInstant(usage.first, scope.zone),
          last_execution_at: usage.last === null ? null : formatInstant(usage.last, scope.zone),
        }))
        .sort((a, b) => b.total_tokens - a.total_tokens || b.call_count - a.call_count || (a.deployment_id < b.deployment_id ? -1 : 1));
      return {
        start_date: formatInstant(start, scope.zone),
        end_date: formatInstant(scope.end, scope.zone),
        range_truncated: truncated,
        deployments,
      };
    },
  );
}
