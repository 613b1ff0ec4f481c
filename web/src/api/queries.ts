import { QueryClient, useQuery } from '@tanstack/react-query';
import { ApiError, apiGet, orgPath, parseOrgList } from './client.ts';
import type { QueryParams } from './client.ts';
import type {
  AggregatesResponse,
  CompareResponse,
  GoodDirection,
  DashboardResponse,
  OrgInfo,
  RecentActivityResponse,
  SeriesResponse,
  SummaryResponse,
  WorkflowUsageResponse,
} from './types.ts';
import { iso } from '../lib/time.ts';
import type { TimeRange } from '../lib/time.ts';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        // A 4xx will not get better by asking again; network blips and 5xx might.
        retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
    },
  });
}

/** Everything a query depends on besides its own parameters. */
export interface Scope {
  apiKey: string;
  orgId: string;
  tz: string;
  project: string;
}

function scopeParams(scope: Scope): QueryParams {
  return { tz: scope.tz, project: scope.project || undefined };
}

function useOrgQuery<T>(scope: Scope, endpoint: string, params: QueryParams, enabled = true) {
  const all = { ...scopeParams(scope), ...params };
  return useQuery({
    // The key itself stays out of the query key: it is not data and must not linger in devtools.
    queryKey: ['org', scope.orgId, endpoint, all],
    queryFn: ({ signal }) => apiGet<T>(scope.apiKey, orgPath(scope.orgId, endpoint), all, signal),
    enabled: enabled && scope.orgId !== '',
  });
}

/** Every organization for an admin key, the own one for a read key (or 403 on stricter servers). */
export function useOrgs(apiKey: string) {
  return useQuery({
    queryKey: ['orgs'],
    queryFn: async ({ signal }) => parseOrgList(await apiGet<unknown>(apiKey, '/api/v1/orgs', {}, signal)),
    staleTime: 5 * 60_000,
  });
}

/** The organization's own record, for its default time zone, when the list did not have it. */
export function useOrgInfo(apiKey: string, orgId: string) {
  return useQuery({
    queryKey: ['org-info', orgId],
    queryFn: async ({ signal }) => {
      const body = await apiGet<Partial<OrgInfo>>(apiKey, `/api/v1/orgs/${encodeURIComponent(orgId)}`, {}, signal);
      return { id: orgId, name: body.name ?? orgId, timezone: body.timezone ?? 'UTC' } satisfies OrgInfo;
    },
    enabled: orgId !== '',
    retry: false,
    staleTime: 5 * 60_000,
  });
}

export function useSummary(scope: Scope, start: number, end: number) {
  return useOrgQuery<SummaryResponse>(scope, 'summary', { start: iso(start), end: iso(end) });
}

export function useSeries(scope: Scope, range: TimeRange, enabled = true) {
  return useOrgQuery<SeriesResponse>(
    scope,
    'series',
    { start: iso(range.start), end: iso(range.end), granularity: range.granularity, fill: 'zero' },
    enabled,
  );
}

export function useAggregates(scope: Scope, range: TimeRange, metric: string) {
  return useOrgQuery<AggregatesResponse>(scope, 'aggregates', {
    metric,
    granularity: range.granularity,
    start: iso(range.start),
    end: iso(range.end),
  });
}

export function useDashboard(scope: Scope, range: TimeRange, enabled = true) {
  // Presets end "now" on the server and start on the same local bucket as ours.
  const params: QueryParams =
    range.dashboardRange === 'custom'
      ? { range: 'custom', start: iso(range.start), end: iso(range.end) }
      : { range: range.dashboardRange };
  return useOrgQuery<DashboardResponse>(scope, 'dashboard', params, enabled);
}

export function useCompare(scope: Scope, date: string, includeEmpty = false) {
  return useOrgQuery<CompareResponse>(scope, 'compare', { date, include_empty: includeEmpty ? 'true' : undefined });
}

export function useRecentActivity(scope: Scope, limit: number) {
  return useOrgQuery<RecentActivityResponse>(scope, 'recent-activity', { limit });
}

export function useWorkflowUsage(scope: Scope, range: TimeRange, deploymentType: string) {
  return useOrgQuery<WorkflowUsageResponse>(scope, 'workflow-usage', {
    start: iso(range.start),
    end: iso(range.dataEnd),
    deployment_type: deploymentType || undefined,
  });
}

export interface CatalogMetric {
  name: string;
  label: string;
  description: string;
  /** The attribute it reads (sum, distribution), shown in the drill-down. */
  value: string | null;
  kind: string;
  unit: string;
  category: string;
  goodDirection: GoodDirection;
}

/** `metrics` lists the catalog; accept a bare array or `{ metrics: [...] }`. */
export function parseCatalog(body: unknown): CatalogMetric[] {
  const list = Array.isArray(body) ? body : (body as { metrics?: unknown } | null)?.metrics;
  if (!Array.isArray(list)) return [];
  return list
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item): CatalogMetric => ({
      name: String(item.name ?? item.metric_name ?? ''),
      label: typeof item.label === 'string' ? item.label : '',
      description: typeof item.description === 'string' ? item.description : '',
      value: typeof item.value === 'string' ? item.value : null,
      kind: String(item.kind ?? item.metric_type ?? ''),
      unit: String(item.unit ?? 'count'),
      category: String(item.category ?? 'Other'),
      goodDirection: item.good_direction === 'up' || item.good_direction === 'down' ? item.good_direction : 'neutral',
    }))
    .filter((metric) => metric.name !== '');
}

export function useCatalog(scope: Scope, enabled = true) {
  return useQuery({
    queryKey: ['org', scope.orgId, 'metrics-catalog'],
    queryFn: async ({ signal }) => parseCatalog(await apiGet<unknown>(scope.apiKey, orgPath(scope.orgId, 'metrics'), {}, signal)),
    enabled: enabled && scope.orgId !== '',
    staleTime: 10 * 60_000,
  });
}
