import type { z } from 'zod';
import type * as s from './query.schemas.ts';

/**
 * The JSON response shapes of the query API (SPEC §4), derived from the response schemas in
 * query.schemas.ts: the schema is the one source of truth for the OpenAPI document, the
 * response check the tests run on every answer (response-check.ts), and these types, which
 * the web dashboard imports instead of a hand-kept copy. Type-only: importing this file pulls
 * no server code into the browser bundle.
 */
export type SummaryResponse = z.output<typeof s.summaryResponse>;
export type SummaryItem = SummaryResponse['summary'][number];
export type SeriesResponse = z.output<typeof s.seriesResponse>;
export type SeriesEntry = SeriesResponse['series'][number];
export type SeriesPoint = SeriesEntry['data'][number];
export type AggregatesResponse = z.output<typeof s.aggregatesResponse>;
export type AggregateRow = AggregatesResponse['rows'][number];
export type DashboardPayload = z.output<typeof s.dashboardResponse>;
export type CompareResponse = z.output<typeof s.compareResponse>;
export type CompareMetric = CompareResponse['metrics'][number];
export type Comparison = CompareMetric['comparisons']['1'];
export type RecentActivityResponse = z.output<typeof s.recentActivityResponse>;
export type ActivityItem = RecentActivityResponse['activity'][number];
export type WorkflowUsageResponse = z.output<typeof s.workflowUsageResponse>;
export type DeploymentUsage = WorkflowUsageResponse['deployments'][number];
export type { GoodDirection, ChangeTone } from '../domain/compare.ts';
