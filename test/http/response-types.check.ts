import type * as api from '../../src/http/api-types.ts';
import type { SummaryResponse } from '../../src/app/query/summary.ts';
import type { SeriesResponse } from '../../src/app/query/series.ts';
import type { AggregatesResponse } from '../../src/app/query/aggregates.ts';
import type { DashboardPayload } from '../../src/app/query/dashboard.ts';
import type { CompareResponse } from '../../src/app/query/compare.ts';
import type { ActivityItem } from '../../src/app/query/recent-activity.ts';
import type { WorkflowUsageResponse } from '../../src/app/query/workflow-usage.ts';

/**
 * Compile-time half of "one source of truth per shape" (typecheck runs it; nothing executes):
 * what each use case builds must be the same type as the one derived from its route's
 * schema (assignable both ways), so a field added to a use case without its schema fails `npm run typecheck`. The
 * runtime half is the response check every HTTP test runs (src/http/response-check.ts).
 */
type Assignable<From, To> = [From] extends [To] ? true : false;
/** Both ways: a field only one side has (or types that differ) breaks one direction. */
type Same<A, B> = Assignable<A, B> extends true ? Assignable<B, A> : false;
type Expect<T extends true> = T;

export type ResponseTypesFollowTheSchemas = [
  Expect<Same<SummaryResponse, api.SummaryResponse>>,
  Expect<Same<SeriesResponse, api.SeriesResponse>>,
  Expect<Same<AggregatesResponse, api.AggregatesResponse>>,
  Expect<Same<DashboardPayload, api.DashboardPayload>>,
  Expect<Same<CompareResponse, api.CompareResponse>>,
  Expect<Same<ActivityItem, api.ActivityItem>>,
  Expect<Same<WorkflowUsageResponse, api.WorkflowUsageResponse>>,
];
