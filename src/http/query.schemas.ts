import { z } from 'zod';
import { DASHBOARD_RANGES } from '../app/query/dashboard.ts';
import { DEPLOYMENT_TYPES } from '../app/query/workflow-usage.ts';
import { MAX_ACTIVITY_LIMIT } from '../app/query/recent-activity.ts';
import { MAX_BREAKDOWN_LIMIT } from '../app/query/breakdown.ts';
import { MAX_DIMENSION_VALUES } from '../app/query/series.ts';

/**
 * Query parameters and response shapes of the query API (SPEC §4, Appendix A). They
 * validate requests and document every endpoint at /api/docs; tests parse responses with
 * them, so a shape drifting from the contract fails a test.
 */

// ---- parameters --------------------------------------------------------------------------

const instant = (what: string) =>
  z.string().max(64).optional().describe(`${what}: ISO 8601 date or date-time; without an offset it is read in \`tz\``);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((value) => value === 'true' || value === '1')
  .describe('true: recompute instead of answering from the cache');
const names = z
  .union([z.string().max(2000), z.array(z.string().max(200)).max(100)])
  .optional();
const limit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).optional().describe(`1–${max}, default ${fallback}`);

export const granularityParam = z.enum(['hour', 'day', 'week', 'month']);
export const sourceParam = z.enum(['auto', 'hourly', 'daily', 'monthly']).optional().describe('Rollup tier; auto: ≤ 7 days hourly, ≤ 90 days daily, else monthly');

export const orgParams = z.object({ org: z.string().min(1).max(128) });

const common = {
  start: instant('Range start (inclusive), default end − 7 days'),
  end: instant('Range end (exclusive), default now'),
  tz: z.string().max(64).optional().describe("IANA time zone for dates and buckets; default the organization's"),
  // No stored project or tag can contain NUL (ingest refuses it), and PostgreSQL text cannot hold one.
  project: z.string().max(200).refine((v) => !v.includes('\u0000'), 'must not contain the NUL character').optional(),
  tag: z.string().max(200).refine((v) => !v.includes('\u0000'), 'must not contain the NUL character').optional(),
  refresh: flag,
};
const metricParam = names.describe('Metric name(s): repeat or comma-separate; absent = all');

export const summaryQuery = z.object({ ...common, metric: metricParam, source: sourceParam });
export const liveSummaryQuery = z.object({ ...common, metric: metricParam });
export const seriesQuery = z.object({
  ...common,
  metric: metricParam,
  granularity: granularityParam.optional().describe('default day'),
  dimension: z.string().max(100).optional().describe('One entry per value of this dimension'),
  fill: z.enum(['zero', 'none']).optional().describe('zero (default): every bucket; none: only buckets with data'),
  source: sourceParam,
  limit: limit(MAX_DIMENSION_VALUES, 100).describe('With dimension: the largest values kept per metric'),
});
export const liveSeriesQuery = seriesQuery.omit({ source: true });
export const overviewQuery = z.object({ ...common, metric: metricParam });
export const breakdownQuery = z.object({
  ...common,
  metric: names.describe('The metric to break down (exactly one)'),
  dimension: z.string().max(100).optional().describe('Required'),
  limit: limit(MAX_BREAKDOWN_LIMIT, 10),
  source: sourceParam,
});
export const aggregatesQuery = z.object({
  ...common,
  metric: names.describe('Exactly one metric'),
  granularity: granularityParam.optional().describe('default hour'),
  dimension: z.string().max(100).optional(),
  source: sourceParam,
});
export const dashboardQuery = z.object({
  range: z.enum(DASHBOARD_RANGES).optional().describe('default 7d; custom needs start and end'),
  start: common.start,
  end: common.end,
  tz: common.tz,
  project: common.project,
  tag: common.tag,
  refresh: flag,
});
export const compareQuery = z.object({
  date: z.string().max(10).optional().describe('YYYY-MM-DD local day; default yesterday'),
  tz: common.tz,
  project: common.project,
  tag: common.tag,
  metric: metricParam,
  include_empty: flag.describe('Also list metrics without data on any compared day'),
  refresh: flag,
});
export const recentActivityQuery = z.object({
  limit: limit(MAX_ACTIVITY_LIMIT, 10),
  tz: common.tz,
  project: common.project,
  tag: common.tag,
  refresh: flag,
});
export const workflowUsageQuery = z.object({
  ...common,
  deployment_type: z.enum(DEPLOYMENT_TYPES).optional(),
});
export const exportCsvQuery = seriesQuery.omit({ fill: true });
export const catalogQuery = z.object({ refresh: flag });

// ---- responses ---------------------------------------------------------------------------

const nullableNumber = z.number().nullable();
const metricType = z.enum(['counter', 'histogram']);

export const summaryItemSchema = z.strictObject({
  metric_name: z.string(),
  metric_type: metricType,
  total_value: z.number().describe('Counters: events; sums and distributions: sum of values; gauges: the latest reading'),
  total_count: z.number().int(),
  average_value: nullableNumber,
  min_value: nullableNumber,
  max_value: nullableNumber,
  p50_value: nullableNumber.optional().describe('Distributions only, from merged sketches (≤ 1 % relative error)'),
  p95_value: nullableNumber.optional(),
  p99_value: nullableNumber.optional(),
});

export const summaryResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  source: z.string().describe('hourly, daily, monthly, or live'),
  summary: z.array(summaryItemSchema),
});

export const seriesPointSchema = z.strictObject({
  timestamp: z.string().describe('Bucket start in the query zone'),
  value: z.number(),
  count: z.number().int(),
  average_value: nullableNumber.optional(),
  p50_value: nullableNumber.optional(),
  p95_value: nullableNumber.optional(),
  p99_value: nullableNumber.optional(),
});

export const seriesEntrySchema = z.strictObject({
  metric_name: z.string(),
  metric_type: metricType,
  project: z.string().nullable().describe('The project filter; null = all projects'),
  tag: z.string().nullable(),
  dimension: z.string().optional(),
  dimension_value: z.string().optional(),
  data: z.array(seriesPointSchema),
  total_value: z.number(),
  total_count: z.number().int(),
});

export const seriesResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  granularity: granularityParam,
  source: z.string(),
  series: z.array(seriesEntrySchema),
  partial_errors: z.array(z.string()).optional().describe('live-series only'),
});

export const overviewResponse = z.strictObject({
  period: z.strictObject({ start_date: z.string(), end_date: z.string(), days: z.number().int() }),
  totals: z.array(z.strictObject({ metric_name: z.string(), total_value: z.number(), total_count: z.number().int() })),
  daily_trend: z.array(z.strictObject({ date: z.string(), metrics: z.record(z.string(), nullableNumber).describe('Totals; a distribution\'s daily average') })),
});

export const breakdownResponse = z.strictObject({
  metric_name: z.string(),
  dimension: z.string(),
  start_date: z.string(),
  end_date: z.string(),
  items: z.array(z.strictObject({ value: z.string(), total_value: z.number(), total_count: z.number().int() })),
});

export const aggregateRowSchema = z.strictObject({
  bucket_time: z.string(),
  granularity: granularityParam,
  metric_name: z.string(),
  dimension_type: z.string().nullable(),
  dimension_value: z.string().nullable(),
  count: z.number().int(),
  sum_value: z.number(),
  min_value: nullableNumber,
  max_value: nullableNumber,
  avg_value: nullableNumber,
  p50_value: nullableNumber,
  p95_value: nullableNumber,
  p99_value: nullableNumber,
});

export const aggregatesResponse = z.strictObject({ metric_name: z.string(), granularity: granularityParam, rows: z.array(aggregateRowSchema) });

const axis = z.array(z.string());
export const dashboardResponse = z.strictObject({
  range: z.enum(DASHBOARD_RANGES),
  generatedAt: z.string(),
  timezone: z.string(),
  start: z.string(),
  end: z.string(),
  grain: z.enum(['hour', 'day']),
  requests: z.strictObject({ timestamps: axis, success: z.array(z.number()), error: z.array(z.number()) }),
  errorsBreakdown: z.array(z.strictObject({ label: z.string(), value: z.number() })),
  topModels: z.array(z.strictObject({ name: z.string(), requests: z.number() })),
  costs: z.strictObject({ timestamps: axis, value: z.array(z.number()) }),
  topCountries: z.array(z.strictObject({ countryCode: z.string(), requests: z.number() })),
  latency: z.strictObject({
    timestamps: axis,
    value: z.array(nullableNumber),
    p50: z.array(nullableNumber),
    p95: z.array(nullableNumber),
    p99: z.array(nullableNumber),
  }),
});

const comparisonSchema = z.strictObject({
  previous: nullableNumber,
  change: nullableNumber,
  change_pct: nullableNumber,
  direction: z.union([z.literal(1), z.literal(0), z.literal(-1)]),
  level: z.enum(['ok', 'warning', 'critical']),
  tone: z.enum(['good', 'bad', 'neutral']).describe('The change read against the metric\'s good direction'),
  previous_p95: nullableNumber,
});

export const compareResponse = z.strictObject({
  date: z.string(),
  timezone: z.string(),
  metrics: z.array(
    z.strictObject({
      metric_name: z.string(),
      label: z.string().describe('The display name, as GET …/metrics gives it'),
      category: z.string(),
      unit: z.string(),
      description: z.string(),
      kind: z.enum(['counter', 'sum', 'distribution', 'unique', 'gauge']),
      good_direction: z.enum(['up', 'down', 'neutral']),
      current: nullableNumber.describe('A distribution\'s average; a gauge\'s last reading; otherwise the day\'s total'),
      p95: nullableNumber,
      comparisons: z.strictObject({ '1': comparisonSchema, '7': comparisonSchema, '30': comparisonSchema }),
    }),
  ),
});

export const recentActivityResponse = z.strictObject({
  activity: z.array(
    z.strictObject({
      id: z.string(),
      execution_id: z.string().nullable(),
      type: z.enum(['etl', 'api', 'workflow']),
      file_name: z.string().nullable(),
      status: z.string().nullable(),
      workflow_name: z.string().nullable(),
      created_at: z.string(),
      execution_time: nullableNumber.describe('Seconds'),
      total_tokens: z.number(),
      cost: z.number(),
    }),
  ),
});

export const workflowUsageResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  range_truncated: z.boolean().describe('The range reached past raw-event retention and was cut'),
  deployments: z.array(
    z.strictObject({
      deployment_id: z.string(),
      deployment_name: z.string().nullable(),
      total_tokens: z.number(),
      total_cost: z.number(),
      call_count: z.number().int(),
      execution_count: z.number().int(),
      completed_executions: z.number().int(),
      failed_executions: z.number().int(),
      total_pages_processed: z.number(),
      first_execution_at: z.string().nullable(),
      last_execution_at: z.string().nullable(),
    }),
  ),
});

export const catalogResponse = z.strictObject({
  metrics: z.array(
    z.strictObject({
      name: z.string(),
      label: z.string().describe('Display name; says where the number comes from when two names look alike'),
      kind: z.enum(['counter', 'sum', 'distribution', 'unique', 'gauge']),
      metric_type: metricType,
      event: z.string(),
      events: z.array(z.string()),
      unit: z.string(),
      category: z.string(),
      description: z.string(),
      dimensions: z.array(z.string()),
      value: z.string().nullable(),
      where: z.record(z.string(), z.unknown()).nullable(),
      good_direction: z.enum(['up', 'down', 'neutral']),
    }),
  ),
});

export const csvResponse = z.string().describe('text/csv: timestamp,metric_name,metric_type,project,tag[,dimension,dimension_value],value,count');
