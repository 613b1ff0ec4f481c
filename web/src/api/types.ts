// Response shapes of SPEC §4 / Appendix A, as the dashboard reads them.

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface OrgInfo {
  id: string;
  name: string;
  timezone: string;
}

export interface SummaryRow {
  metric_name: string;
  metric_type: 'counter' | 'histogram';
  total_value: number;
  total_count: number;
  average_value: number | null;
  min_value: number | null;
  max_value: number | null;
  p50_value?: number | null;
  p95_value?: number | null;
  p99_value?: number | null;
}

export interface SummaryResponse {
  start_date: string;
  end_date: string;
  source: string;
  summary: SummaryRow[];
}

export interface SeriesPoint {
  timestamp: string;
  value: number;
  count: number;
}

export interface SeriesEntry {
  metric_name: string;
  metric_type: string;
  project?: string | null;
  tag?: string | null;
  dimension?: string;
  dimension_value?: string;
  data: SeriesPoint[];
  total_value: number;
  total_count: number;
}

export interface SeriesResponse {
  start_date: string;
  end_date: string;
  granularity: string;
  source?: string;
  series: SeriesEntry[];
}

export interface AggregateRow {
  bucket_time: string;
  granularity: string;
  metric_name: string;
  dimension_type: string | null;
  dimension_value: string | null;
  count: number;
  sum_value: number;
  min_value: number | null;
  max_value: number | null;
  avg_value: number | null;
  p50_value: number | null;
  p95_value: number | null;
  p99_value: number | null;
}

export interface AggregatesResponse {
  metric_name: string;
  granularity: string;
  rows: AggregateRow[];
}

/** Seed 002's camelCase payload. */
export interface DashboardResponse {
  range: string;
  generatedAt: string;
  requests: { timestamps: string[]; success: number[]; error: number[] };
  errorsBreakdown: { label: string; value: number }[];
  topModels: { name: string; requests: number }[];
  costs: { timestamps: string[]; value: number[] };
  topCountries: { countryCode: string; requests: number }[];
  latency: { timestamps: string[]; value: number[] };
}

export interface Comparison {
  previous: number | null;
  change: number | null;
  change_pct: number | null;
  direction: 1 | 0 | -1;
  level: 'ok' | 'warning' | 'critical';
}

export interface CompareMetric {
  metric_name: string;
  category?: string;
  unit?: string;
  description?: string;
  current: number | null;
  comparisons: Partial<Record<'1' | '7' | '30', Comparison | null>>;
}

/** Not fully fixed by SPEC; this is the shape the dashboard assumes. */
export interface CompareResponse {
  date: string;
  timezone?: string;
  metrics: CompareMetric[];
}

export interface ActivityItem {
  id: string;
  execution_id: string | null;
  type: string;
  file_name: string | null;
  status: string | null;
  workflow_name: string | null;
  created_at: string;
  execution_time: number | null;
  total_tokens: number | null;
  cost: number | null;
}

export interface RecentActivityResponse {
  activity: ActivityItem[];
}

export interface WorkflowUsageRow {
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
  deployments: WorkflowUsageRow[];
}
