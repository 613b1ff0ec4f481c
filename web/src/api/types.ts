// Response shapes of SPEC §4 / Appendix A: the server's own types (src/http/api-types.ts, derived from its response schemas), plus the few the dashboard adds.

export interface OrgInfo {
  id: string;
  name: string;
  timezone: string;
}

export type {
  SummaryItem as SummaryRow,
  SummaryResponse,
  SeriesPoint,
  SeriesEntry,
  SeriesResponse,
  AggregateRow,
  AggregatesResponse,
  DashboardPayload as DashboardResponse,
  Comparison,
  ChangeTone,
  GoodDirection,
  CompareMetric,
  CompareResponse,
  ActivityItem,
  DeploymentUsage as WorkflowUsageRow,
  WorkflowUsageResponse,
  RecentActivityResponse,
} from '../../../src/http/api-types.ts';
