/**
 * The JSON response shapes of the query API (SPEC §4), re-exported in one place so the web
 * dashboard imports the very types the server answers with instead of a hand-kept copy.
 * Type-only: importing this file pulls no server code into the browser bundle.
 */
export type { SummaryItem, SummaryResponse } from '../app/query/summary.ts';
export type { SeriesPoint, SeriesEntry, SeriesResponse } from '../app/query/series.ts';
export type { AggregateRow, AggregatesResponse } from '../app/query/aggregates.ts';
export type { DashboardPayload } from '../app/query/dashboard.ts';
export type { CompareMetric, CompareResponse } from '../app/query/compare.ts';
export type { Comparison } from '../domain/compare.ts';
export type { ActivityItem } from '../app/query/recent-activity.ts';
export type { DeploymentUsage, WorkflowUsageResponse } from '../app/query/workflow-usage.ts';
