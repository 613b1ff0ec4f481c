import type { AppContext } from '../app/context.ts';
import { cachedJson, type CachedJson } from '../app/query/cached-query.ts';
import { amount, text } from '../app/query/event-attrs.ts';
import { resolveScope, scopeKey } from '../app/query/scope.ts';
import { formatInstant } from '../app/query/time-input.ts';
import type { StoredEvent } from '../domain/event.ts';
import { roundLikePython } from '../domain/python-round.ts';
import { DEPLOYMENT_USAGE_MAX_DAYS } from './original-module.ts';

/**
 * The original module's `workflow-token-usage`: LLM tokens, calls and cost per deployment of
 * one type (API deployments, ETL or TASK pipelines, or plain workflow runs), with their
 * executions and pages. As in the original:
 * - the range (365 days at most, else 400) is cut to its last 30 days, flagged `range_truncated`;
 * - `deployment_type` defaults to API and is echoed;
 * - executions in the range pick the deployments; LLM calls (usage_type llm) in the range and
 *   pages count through their execution; rows are ordered by tokens, largest first;
 * - cost is rounded to 4 decimals; a deployment without a name is "Unknown".
 *
 * A workflow_execution event names its deployment with `deployment_id`/`deployment_name`
 * (falling back to its workflow) and its kind with `pipeline_type`; WF groups by workflow.
 * Raw events are kept for a limited time: a range reaching past that is cut there too.
 */

export const DEPLOYMENT_TYPES = ['API', 'ETL', 'TASK', 'WF'] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];
const PIPELINE_OF: Record<DeploymentType, string> = { API: 'api', ETL: 'etl', TASK: 'task', WF: 'workflow' };
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Page counts and calls are recorded while a file runs, before its execution's record. */
const PAGE_LOOKBACK_MS = 24 * HOUR;

export interface DeploymentUsageInput {
  orgId: string;
  start_date?: string | undefined;
  end_date?: string | undefined;
  deployment_type?: DeploymentType | undefined;
  tz?: string | undefined;
  refresh?: boolean | undefined;
}

interface Deployment {
  name: string | null;
  tokens: number;
  cost: number;
  calls: number;
  executions: number;
  completed: number;
  failed: number;
  pages: number;
  first: number;
  last: number;
}

/**
 * Which tab an execution belongs to: its `deployment_type` when it says (the unstract preset
 * does: a pipeline of another type, such as APP, is in none), else its `pipeline_type`.
 */
function kindOf(event: StoredEvent): string {
  const declared = text(event.attrs, 'deployment_type');
  if (declared !== null) return declared.toUpperCase();
  const pipeline = (text(event.attrs, 'pipeline_type') ?? 'workflow').toLowerCase();
  return DEPLOYMENT_TYPES.find((type) => PIPELINE_OF[type] === pipeline) ?? pipeline.toUpperCase();
}

function deploymentOf(event: StoredEvent, type: DeploymentType): { id: string; name: string | null } | null {
  const workflow = { id: text(event.attrs, 'workflow_id'), name: text(event.attrs, 'workflow_name') };
  const own = type === 'WF' ? { id: null, name: null } : { id: text(event.attrs, 'deployment_id'), name: text(event.attrs, 'deployment_name') };
  const chosen = own.id !== null ? own : workflow;
  return chosen.id === null ? null : { id: chosen.id, name: chosen.name };
}

export async function unstractDeploymentUsage(ctx: AppContext, input: DeploymentUsageInput): Promise<CachedJson> {
  const scope = await resolveScope(
    ctx,
    { orgId: input.orgId, start: input.start_date, end: input.end_date, tz: input.tz, refresh: input.refresh },
    // MetricsQuerySerializer.validate: start defaults to 30 days before now, 365 days at most.
    { defaultSpanMs: 30 * DAY, defaultStartFromNow: true, maxSpanDays: 365, startField: 'start_date', endField: 'end_date', inclusiveDateEnd: true },
  );
  const type = input.deployment_type ?? 'API';
  const horizon = ctx.clock.now() - ctx.config.retention.rawMs;
  const earliest = Math.max(scope.end - DEPLOYMENT_USAGE_MAX_DAYS * DAY, horizon);
  const truncated = scope.start < earliest;
  const start = truncated ? Math.min(earliest, scope.end) : scope.start;
  return cachedJson(
    ctx,
    {
      orgId: scope.org.id,
      endpoint: 'unstract-deployment-usage',
      query: { ...scopeKey(scope), deployment_type: type },
      end: scope.endIsNow ? null : scope.end,
      storageZone: scope.storageZone,
      refresh: input.refresh,
    },
    async () => {
      const events = await ctx.eventReader.scanEvents({
        orgId: scope.org.id,
        from: start - PAGE_LOOKBACK_MS,
        to: scope.end,
        types: ['llm_call', 'workflow_execution', 'page_usage'],
      });
      const inRange = (event: StoredEvent) => event.ts >= start;
      const deployments = new Map<string, Deployment>();
      const deploymentOfExecution = new Map<string, Deployment>();
      for (const event of events) {
        if (event.type !== 'workflow_execution' || !inRange(event)) continue;
        if (kindOf(event) !== type) continue;
        const owner = deploymentOf(event, type);
        if (owner === null) continue;
        let row = deployments.get(owner.id);
        if (!row) {
          row = { name: null, tokens: 0, cost: 0, calls: 0, executions: 0, completed: 0, failed: 0, pages: 0, first: event.ts, last: event.ts };
          deployments.set(owner.id, row);
        }
        row.name ??= owner.name;
        row.executions += 1;
        const status = text(event.attrs, 'status')?.toUpperCase();
        if (status === 'COMPLETED') row.completed += 1;
        if (status === 'ERROR') row.failed += 1;
        row.first = Math.min(row.first, event.ts);
        row.last = Math.max(row.last, event.ts);
        const execution = text(event.attrs, 'execution_id');
        if (execution !== null) deploymentOfExecution.set(execution, row);
      }
      for (const event of events) {
        const execution = text(event.attrs, 'execution_id');
        const row = execution === null ? undefined : deploymentOfExecution.get(execution);
        if (row === undefined) continue;
        if (event.type === 'page_usage') row.pages += amount(event.attrs, 'pages');
        else if (event.type === 'llm_call' && inRange(event) && text(event.attrs, 'usage_type') === 'llm') {
          row.tokens += amount(event.attrs, 'total_tokens');
          row.cost += amount(event.attrs, 'cost_usd');
          row.calls += 1;
        }
      }
      return {
        start_date: formatInstant(start, scope.zone),
        end_date: formatInstant(scope.end, scope.zone),
        deployment_type: type,
        range_truncated: truncated,
        deployments: [...deployments.entries()]
          .sort(([idA, a], [idB, b]) => b.tokens - a.tokens || (idA < idB ? -1 : 1))
          .map(([id, row]) => ({
            deployment_id: id,
            deployment_name: row.name ?? 'Unknown',
            total_tokens: row.tokens,
            total_cost: roundLikePython(row.cost, 4),
            call_count: row.calls,
            execution_count: row.executions,
            completed_executions: row.completed,
            failed_executions: row.failed,
            total_pages_processed: row.pages,
            first_execution_at: formatInstant(row.first, scope.zone, { milliseconds: true }),
            last_execution_at: formatInstant(row.last, scope.zone, { milliseconds: true }),
          })),
      };
    },
  );
}
