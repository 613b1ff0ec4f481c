import type { StoredEvent } from '../../domain/event.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { activityType, amount, optionalAmount, text } from './event-attrs.ts';
import { loadOrganization } from './scope.ts';
import { formatInstant, resolveTimeZone } from './time-input.ts';

/**
 * `recent-activity` (seed 000): the latest processed files, newest first, with their
 * execution's type and workflow and the tokens and cost of its LLM calls. Executions that
 * reported no file appear as themselves.
 */

export const DEFAULT_ACTIVITY_LIMIT = 10;
export const MAX_ACTIVITY_LIMIT = 50;
const HOUR = 3_600_000;
/** LLM calls and the execution record precede the file result; look this far back for them. */
const ENRICH_LOOKBACK_MS = 24 * HOUR;

export interface ActivityItem {
  id: string;
  execution_id: string | null;
  type: 'etl' | 'api' | 'workflow';
  file_name: string | null;
  status: string | null;
  workflow_name: string | null;
  created_at: string;
  /** Seconds. */
  execution_time: number | null;
  total_tokens: number;
  cost: number;
}

export interface RecentActivityInput {
  orgId: string;
  limit?: number | undefined;
  tz?: string | undefined;
  project?: string | undefined;
  tag?: string | undefined;
  refresh?: boolean | undefined;
}

interface ExecutionInfo {
  pipelineType: string | null;
  workflowName: string | null;
  tokens: number;
  cost: number;
}

export async function recentActivity(ctx: QueryDeps, input: RecentActivityInput): Promise<CachedJson> {
  const org = await loadOrganization(ctx, input.orgId);
  const zone = resolveTimeZone(input.tz, org);
  const limit = Math.max(1, Math.min(input.limit ?? DEFAULT_ACTIVITY_LIMIT, MAX_ACTIVITY_LIMIT));
  const project = input.project || undefined;
  return cachedJson(
    ctx,
    { orgId: org.id, endpoint: 'recent-activity', query: { limit, tz: zone, project, tag: input.tag }, end: null, storageZone: org.timezone, refresh: input.refresh },
    async () => {
      const filtered = project !== undefined || input.tag !== undefined;
      const fetch = filtered ? Math.min(limit * 10, 500) : limit;
      const keep = (event: StoredEvent) => (project === undefined || event.project === project) && (input.tag === undefined || event.tag === input.tag);
      const [files, executions] = await Promise.all([
        ctx.eventReader.recentEvents(org.id, ['file_execution'], fetch),
        ctx.eventReader.recentEvents(org.id, ['workflow_execution'], fetch),
      ]);
      const fileExecutionIds = new Set(files.map((event) => text(event.attrs, 'execution_id')));
      const picked = [...files, ...executions.filter((event) => !fileExecutionIds.has(text(event.attrs, 'execution_id')))]
        .filter(keep)
        .sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1))
        .slice(0, limit);
      const info = await executionInfo(ctx, org.id, picked);
      return {
        activity: picked.map((event): ActivityItem => {
          const executionId = text(event.attrs, 'execution_id');
          const execution = executionId === null ? undefined : info.get(executionId);
          const ownPipeline = event.type === 'workflow_execution' ? text(event.attrs, 'pipeline_type') : null;
          const durationMs = optionalAmount(event.attrs, 'duration_ms');
          return {
            id: event.id,
            execution_id: executionId,
            type: activityType(ownPipeline ?? execution?.pipelineType ?? null),
            file_name: text(event.attrs, 'file_name'),
            status: text(event.attrs, 'status'),
            workflow_name: text(event.attrs, 'workflow_name') ?? execution?.workflowName ?? null,
            created_at: formatInstant(event.ts, zone),
            execution_time: durationMs === null ? null : durationMs / 1000,
            total_tokens: execution?.tokens ?? 0,
            cost: execution?.cost ?? 0,
          };
        }),
      };
    },
  );
}

/** Execution records and LLM usage of the picked executions, from the raw events around them. */
async function executionInfo(ctx: QueryDeps, orgId: string, picked: readonly StoredEvent[]): Promise<Map<string, ExecutionInfo>> {
  const ids = new Set(picked.map((event) => text(event.attrs, 'execution_id')).filter((id): id is string => id !== null));
  const info = new Map<string, ExecutionInfo>();
  if (ids.size === 0) return info;
  const timestamps = picked.map((event) => event.ts);
  const events = await ctx.eventReader.scanEvents({
    orgId,
    from: Math.min(...timestamps) - ENRICH_LOOKBACK_MS,
    to: Math.max(...timestamps) + HOUR,
    types: ['workflow_execution', 'llm_call'],
  });
  const entry = (id: string): ExecutionInfo => {
    let found = info.get(id);
    if (!found) info.set(id, (found = { pipelineType: null, workflowName: null, tokens: 0, cost: 0 }));
    return found;
  };
  for (const event of events) {
    const id = text(event.attrs, 'execution_id');
    if (id === null || !ids.has(id)) continue;
    const record = entry(id);
    record.workflowName ??= text(event.attrs, 'workflow_name');
    if (event.type === 'workflow_execution') {
      record.pipelineType = text(event.attrs, 'pipeline_type') ?? record.pipelineType;
    } else {
      record.tokens += amount(event.attrs, 'total_tokens');
      record.cost += amount(event.attrs, 'cost_usd');
    }
  }
  return info;
}
