import { z } from 'zod';
import { DEPLOYMENT_TYPES } from './deployment-usage.ts';

/**
 * Parameters and response shapes of the Unstract aliases: the original module's names and
 * serializer rules (SPEC Appendix A; backend/dashboard_metrics/serializers.py
 * MetricsQuerySerializer, DeploymentUsageQuerySerializer). Tests parse responses with them.
 * As DRF reads a query string (Field.get_value), an empty value of an optional parameter is
 * the parameter left out, and parameters it does not know are ignored.
 */

const orAbsent = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const instant = (what: string) => z.string().max(64).optional().describe(`${what}: ISO 8601 date or date-time; a bare end date includes its day`);
/** cache.py cache_metrics_response: `refresh` bypasses the cache when it reads "true" in any case; any other value is ignored. */
const flag = z
  .string()
  .max(50)
  .optional()
  .transform((value) => value?.toLowerCase() === 'true')
  .describe('"true" (any case): recompute instead of answering from the cache; other values are ignored');
const text = z.string().max(200).refine((v) => !v.includes('\u0000'), 'must not contain the NUL character');
const metricNames = orAbsent(z.union([z.string().max(2000), z.array(z.string().max(200)).max(100)])).describe("One of the original module's metrics; absent = all 12");
const tz = z.string().max(64).optional().describe("Extension: IANA time zone for dates and buckets; default the organization's");

const common = {
  start_date: instant('Range start, default 30 days before now'),
  end_date: instant('Range end, default now'),
  project: text.optional(),
  tag: text.optional(),
  tz,
  refresh: flag,
};
const source = orAbsent(z.enum(['auto', 'hourly', 'daily', 'monthly'])).describe('auto: ≤ 7 days hourly, ≤ 90 days daily, else monthly');
const granularity = orAbsent(z.enum(['hour', 'day', 'week'])).describe('default day');

/** MetricsQuerySerializer's every field is validated on each endpoint that uses it, whether or not the endpoint reads it (summary: granularity). */
export const summaryQuery = z.object({ ...common, metric_name: metricNames, granularity, source });
export const seriesQuery = z.object({ ...common, metric_name: metricNames, granularity, source });
/** live-summary and live-series validate the whole MetricsQuerySerializer too (granularity, source), using what they need. */
export const liveSummaryQuery = z.object({ ...common, metric_name: metricNames, granularity, source });
export const liveSeriesQuery = seriesQuery;
/** The original reads only start_date and end_date here, and never rejects them (an unreadable one falls back to its default). */
export const overviewQuery = z.object({
  start_date: z.string().max(200).optional().describe('Default end_date − 7 days; no range limit'),
  end_date: z.string().max(200).optional().describe('Default now'),
  tz,
  refresh: flag,
});
export const recentActivityQuery = z.object({
  limit: z.string().max(50).optional().describe('Default 10, at most 50 (larger values are clamped); a non-integer means 10'),
  tz,
  refresh: flag,
});
/** DeploymentUsageQuerySerializer extends MetricsQuerySerializer: its other fields are validated, then unused. */
export const deploymentUsageQuery = z.object({
  ...common,
  metric_name: metricNames,
  granularity,
  source,
  deployment_type: orAbsent(z.enum(DEPLOYMENT_TYPES)).describe('API (default), ETL, TASK or WF (exactly so: "api" is refused as the original refuses it)'),
});
export const emptyQuery = z.object({});

const number = z.number();

export const summaryResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  source: z.string(),
  summary: z.array(
    z.strictObject({
      metric_name: z.string(),
      metric_type: z.enum(['counter', 'histogram']),
      total_value: number,
      total_count: z.number().int(),
      average_value: number,
      min_value: number,
      max_value: number,
    }),
  ),
});

export const seriesResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  granularity: z.enum(['hour', 'day', 'week']),
  source: z.string(),
  series: z.array(
    z.strictObject({
      metric_name: z.string(),
      metric_type: z.enum(['counter', 'histogram']),
      project: z.string().describe('The project filter, or "" for all projects'),
      tag: z.string().describe('The tag filter, or "" (the original\'s rows carry "")'),
      data: z.array(z.strictObject({ timestamp: z.string(), value: number, count: z.number().int() })),
      total_value: number,
      total_count: z.number().int(),
    }),
  ),
  partial_errors: z.array(z.string()).optional().describe('live-series only'),
});

export const overviewResponse = z.strictObject({
  period: z.strictObject({ start_date: z.string(), end_date: z.string(), days: z.number().int() }),
  totals: z.array(z.strictObject({ metric_name: z.string(), total_value: number, total_count: z.number().int() })),
  daily_trend: z.array(z.strictObject({ date: z.string(), metrics: z.record(z.string(), number) })),
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
      execution_time: number.nullable().describe('Seconds'),
      total_tokens: number.describe("Tokens of this file's LLM calls"),
      cost: number.describe("Cost of this file's LLM calls, rounded to 4 decimals"),
    }),
  ),
});

export const deploymentUsageResponse = z.strictObject({
  start_date: z.string(),
  end_date: z.string(),
  deployment_type: z.enum(DEPLOYMENT_TYPES),
  range_truncated: z.boolean().describe('The range was cut to its last 30 days (or to raw-event retention)'),
  deployments: z.array(
    z.strictObject({
      deployment_id: z.string(),
      deployment_name: z.string(),
      total_tokens: number,
      total_cost: number.describe('Rounded to 4 decimals'),
      call_count: z.number().int(),
      execution_count: z.number().int(),
      completed_executions: z.number().int(),
      failed_executions: z.number().int(),
      total_pages_processed: number,
      first_execution_at: z.string().nullable(),
      last_execution_at: z.string().nullable(),
    }),
  ),
});

const check = z.strictObject({ status: z.enum(['ok', 'error']), message: z.string().optional() });
export const healthResponse = z.strictObject({
  healthy: z.boolean(),
  checks: z.strictObject({ database: check, cache: check }),
  timestamp: z.string(),
});
