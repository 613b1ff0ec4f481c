import type { StoredEvent } from '../../domain/event.ts';
import type { QueryDeps } from './query-deps.ts';
import { cachedJson, type CachedJson } from './cached-query.ts';
import { roundLikePython } from '../../domain/python-round.ts';
import { activityType, amount, optionalAmount, text } from './event-attrs.ts';
import { loadOrganization } from './scope.ts';
import { formatInstant, resolveTimeZone } from './time-input.ts';

/**
 * `recent-activity` (seed 000): the latest processed files, newest first, with their
 * execution's type and workflow and the tokens and cost of the LLM calls made for that file
 * (as the original sums usage by the file execution's run_id, never per execution), the cost
 * rounded to 4 decimals as the original rounds it. Executions that reported no file appear
 * as themselves, with all their calls.
 *
 * A call belongs to a file by `file_execution_id` (or `run_id`), else by its execution and
 * `file_name`; calls that name neither belong to the file only when their execution
 * processed exactly one file.
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
  /**
   * The original module's list (services.py get_recent_activity): file executions only, each
   * `id` being the file execution's own id (the `run_id` its usage rows name), `created_at`
   * to the millisecond as its isoformat() gives it.
   */
  filesOnly?: boolean | undefined;
}

interface Usage {
  tokens: number;
  cost: number;
}

interface ExecutionInfo {
  pipelineType: string | null;
  workflowName: string | null;
  /** Every call of the execution. */
  all: Usage;
  /** Calls that name no file. */
  unlinked: Usage;
  /** Distinct files the execution processed (by file execution id or name). */
  files: Set<string>;
}

/** The file a file_execution, page_usage or llm_call event speaks of, if it says. */
function fileKey(event: StoredEvent): string | null {
  const id = text(event.attrs, 'file_execution_id') ?? text(event.attrs, 'run_id');
  if (id !== null) return `id:${id}`;
  const name = text(event.attrs, 'file_name');
  return name === null ? null : `name:${name}`;
}

export async function recentActivity(ctx: QueryDeps, input: RecentActivityInput): Promise<CachedJson> {
  const org = await loadOrganization(ctx, input.orgId);
  const zone = resolveTimeZone(input.tz, org);
  const limit = Math.max(1, Math.min(input.limit ?? DEFAULT_ACTIVITY_LIMIT, MAX_ACTIVITY_LIMIT));
  const project = input.project || undefined;
  return cachedJson(
    ctx,
    { orgId: org.id, endpoint: 'recent-activity', query: { limit, tz: zone, project, tag: input.tag, files_only: input.filesOnly === true }, end: null, storageZone: org.timezone, refresh: input.refresh },
    async () => {
      const filtered = project !== undefined || input.tag !== undefined;
      const fetch = filtered ? Math.min(limit * 10, 500) : limit;
      const keep = (event: StoredEvent) => (project === undefined || event.project === project) && (input.tag === undefined || event.tag === input.tag);
      const [files, executions] = await Promise.all([
        ctx.eventReader.recentEvents(org.id, ['file_execution'], fetch),
        input.filesOnly === true ? Promise.resolve([]) : ctx.eventReader.recentEvents(org.id, ['workflow_execution'], fetch),
      ]);
      const fileExecutionIds = new Set(files.map((event) => text(event.attrs, 'execution_id')));
      const picked = [...files, ...executions.filter((event) => !fileExecutionIds.has(text(event.attrs, 'execution_id')))]
        .filter(keep)
        .sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1))
        .slice(0, limit);
      const { executions: info, byFile } = await usageOf(ctx, org.id, picked);
      return {
        activity: picked.map((event): ActivityItem => {
          const executionId = text(event.attrs, 'execution_id');
          const execution = executionId === null ? undefined : info.get(executionId);
          const ownPipeline = event.type === 'workflow_execution' ? text(event.attrs, 'pipeline_type') : null;
          const durationMs = optionalAmount(event.attrs, 'duration_ms');
          const fileExecutionId = event.type === 'file_execution' ? (text(event.attrs, 'file_execution_id') ?? text(event.attrs, 'run_id')) : null;
          return {
            id: input.filesOnly === true ? (fileExecutionId ?? event.id) : event.id,
            execution_id: executionId,
            type: activityType(ownPipeline ?? execution?.pipelineType ?? text(event.attrs, 'pipeline_type')),
            file_name: text(event.attrs, 'file_name'),
            status: text(event.attrs, 'status'),
            workflow_name: text(event.attrs, 'workflow_name') ?? execution?.workflowName ?? null,
            created_at: formatInstant(event.ts, zone, { milliseconds: input.filesOnly === true }),
            execution_time: durationMs === null ? null : durationMs / 1000,
            ...usageItem(event, executionId, execution, byFile),
          };
        }),
      };
    },
  );
}

function usageItem(event: StoredEvent, executionId: string | null, execution: ExecutionInfo | undefined, byFile: Map<string, Usage>): { total_tokens: number; cost: number } {
  let usage: Usage | undefined;
  if (event.type !== 'file_execution') usage = execution?.all;
  else {
    const ownKeys = [text(event.attrs, 'file_execution_id') ?? text(event.attrs, 'run_id'), text(event.attrs, 'file_name')];
    const linked = [ownKeys[0] === null ? null : `id:${ownKeys[0]}`, ownKeys[1] === null ? null : `name:${ownKeys[1]}`]
      .map((key) => (key === null ? undefined : byFile.get(`${executionId ?? ''}\u0000${key}`)))
      .filter((found): found is Usage => found !== undefined);
    const tokens = linked.reduce((sum, u) => sum + u.tokens, 0) + (execution !== undefined && execution.files.size <= 1 ? execution.unlinked.tokens : 0);
    const cost = linked.reduce((sum, u) => sum + u.cost, 0) + (execution !== undefined && execution.files.size <= 1 ? execution.unlinked.cost : 0);
    usage = { tokens, cost };
  }
  return { total_tokens: usage?.tokens ?? 0, cost: roundLikePython(usage?.cost ?? 0, 4) };
}

/** Execution records and LLM usage (per execution and per file) of the picked events, from the raw events around them. */
async function usageOf(ctx: QueryDeps, orgId: string, picked: readonly StoredEvent[]): Promise<{ executions: Map<string, ExecutionInfo>; byFile: Map<string, Usage> }> {
  const ids = new Set(picked.map((event) => text(event.attrs, 'execution_id')).filter((id): id is string => id !== null));
  const info = new Map<string, ExecutionInfo>();
  const byFile = new Map<string, Usage>();
  if (ids.size === 0) return { executions: info, byFile };
  const timestamps = picked.map((event) => event.ts);
  const events = await ctx.eventReader.scanEvents({
    orgId,
    from: Math.min(...timestamps) - ENRICH_LOOKBACK_MS,
    to: Math.max(...timestamps) + HOUR,
    types: ['workflow_execution', 'llm_call', 'file_execution'],
  });
  const entry = (id: string): ExecutionInfo => {
    let found = info.get(id);
    if (!found) info.set(id, (found = { pipelineType: null, workflowName: null, all: { tokens: 0, cost: 0 }, unlinked: { tokens: 0, cost: 0 }, files: new Set() }));
    return found;
  };
  const add = (usage: Usage, tokens: number, cost: number) => {
    usage.tokens += tokens;
    usage.cost += cost;
  };
  for (const event of events) {
    const id = text(event.attrs, 'execution_id');
    if (id === null || !ids.has(id)) continue;
    const record = entry(id);
    record.workflowName ??= text(event.attrs, 'workflow_name');
    if (event.type === 'workflow_execution') {
      record.pipelineType = text(event.attrs, 'pipeline_type') ?? record.pipelineType;
    } else if (event.type === 'file_execution') {
      record.files.add(text(event.attrs, 'file_execution_id') ?? text(event.attrs, 'run_id') ?? text(event.attrs, 'file_name') ?? event.id);
    } else {
      const tokens = amount(event.attrs, 'total_tokens');
      const cost = amount(event.attrs, 'cost_usd');
      add(record.all, tokens, cost);
      const key = fileKey(event);
      if (key === null) add(record.unlinked, tokens, cost);
      else {
        const fileUsage = byFile.get(`${id}\u0000${key}`) ?? { tokens: 0, cost: 0 };
        add(fileUsage, tokens, cost);
        byFile.set(`${id}\u0000${key}`, fileUsage);
      }
    }
  }
  return { executions: info, byFile };
}
