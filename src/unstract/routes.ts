import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { parseAnswer, type CachedJson } from '../app/query/cached-query.ts';
import { health } from '../app/query/health.ts';
import { liveSeries } from '../app/query/live-series.ts';
import { liveSummary } from '../app/query/live-summary.ts';
import { recentActivity } from '../app/query/recent-activity.ts';
import { loadOrganization } from '../app/query/scope.ts';
import { series } from '../app/query/series.ts';
import { summary } from '../app/query/summary.ts';
import { bearerSecurity, errorResponses, orgParamsSchema } from '../http/schemas.ts';
import { unstractDeploymentUsage } from './deployment-usage.ts';
import { activityLimit, UNSTRACT_METRICS } from './original-module.ts';
import { unstractOverview } from './overview.ts';
import * as s from './schemas.ts';

/**
 * `/api/v1/unstract/{org}/metrics/…/`: the original module's endpoints for its unmodified
 * frontend (docs/UNSTRACT.md). Registered inside the query routes' scope, so the same
 * read-key check runs first. Each route answers with and without the trailing slash.
 */

const BASE = '/api/v1/unstract/:org/metrics';
const DAY = 86_400_000;
const TAGS = ['unstract compatibility'];
/**
 * MetricsQuerySerializer.validate (backend/dashboard_metrics/serializers.py): end defaults to
 * now and start to 30 days before now (even when end is given), start after end and ranges
 * over 365 days are a 400.
 */
const SCOPE = { maxSpanDays: 365, startField: 'start_date', endField: 'end_date', inclusiveDateEnd: true, metricField: 'metric_name', defaultSpanMs: 30 * DAY, defaultStartFromNow: true };

type Json = Record<string, unknown>;

function sendJson(reply: FastifyReply, answer: CachedJson, reshape?: (body: Json) => Json): FastifyReply {
  const json = reshape ? JSON.stringify(reshape(parseAnswer<Json>(answer))) : answer.body;
  return reply.header('x-cache', answer.hit ? 'hit' : 'miss').type('application/json; charset=utf-8').send(json);
}

/** The original lists its own metrics only; a named metric is passed through as asked. */
const metricsOf = (named: string | readonly string[] | undefined) => named ?? [...UNSTRACT_METRICS];

/** The original's serializers always give numbers: an empty range's average, min and max are 0. */
function zeroNulls(body: Json): Json {
  const items = body['summary'] as Json[];
  return {
    ...body,
    summary: items.map((item) => ({
      metric_name: item['metric_name'],
      metric_type: item['metric_type'],
      total_value: item['total_value'],
      total_count: item['total_count'],
      average_value: item['average_value'] ?? 0,
      min_value: item['min_value'] ?? 0,
      max_value: item['max_value'] ?? 0,
    })),
  };
}

/**
 * The original's series always carry strings in project and tag (EventMetricsHourly.project
 * defaults to "default", tag to ""); ours name the filter, or "" for all.
 */
function projectAsString(project: string | undefined, tag: string | undefined): (body: Json) => Json {
  return (body) => ({
    ...body,
    series: (body['series'] as Json[]).map((entry) => ({
      metric_name: entry['metric_name'],
      metric_type: entry['metric_type'],
      project: entry['project'] ?? project ?? '',
      tag: entry['tag'] ?? tag ?? '',
      data: (entry['data'] as Json[]).map((point) => ({ timestamp: point['timestamp'], value: point['value'], count: point['count'] })),
      total_value: entry['total_value'],
      total_count: entry['total_count'],
    })),
  });
}

/**
 * The Unstract client shows `err.response.data.message` when a call fails (useMetricsData.js;
 * the original's drf-standardized-errors bodies have none, so it shows a generic line): error
 * answers of the aliases carry their message there too, beside the usual `error` object.
 */
async function messageOnTop(_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
  try {
    const body = JSON.parse(payload) as { error?: { message?: unknown }; message?: unknown };
    if (typeof body.error?.message === 'string' && body.message === undefined) return JSON.stringify({ message: body.error.message, ...body });
  } catch {
    // Not JSON: left as it is.
  }
  return payload;
}

export function registerUnstractRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  function route<Q extends z.ZodType<Record<string, unknown>>>(
    path: string,
    summaryText: string,
    query: Q,
    response: z.ZodType,
    handle: (org: string, query: z.output<Q>, reply: FastifyReply) => Promise<FastifyReply>,
  ): void {
    for (const [url, hide] of [[`${BASE}/${path}/`, false], [`${BASE}/${path}`, true]] as const) {
      api.get(url, {
        schema: {
          tags: TAGS,
          summary: summaryText,
          ...(hide ? { hide: true } : {}),
          security: bearerSecurity,
          params: orgParamsSchema,
          querystring: query,
          response: { 200: response, ...errorResponses(400, 401, 403, 404) },
        },
        onSend: messageOnTop,
        handler: async (request, reply) => handle(request.params.org, request.query as z.output<Q>, reply),
      });
    }
  }

  route('overview', "Totals and daily trend of the original's 12 metrics (default: the last 7 days; no range limit)", s.overviewQuery, s.overviewResponse, async (org, q, reply) =>
    sendJson(reply, await unstractOverview(ctx, { orgId: org, ...q })),
  );
  route('summary', 'Totals per metric (default: the last 30 days, at most 365)', s.summaryQuery, s.summaryResponse, async (org, q, reply) =>
    sendJson(
      reply,
      await summary(ctx, { orgId: org, start: q.start_date, end: q.end_date, tz: q.tz, project: q.project, tag: q.tag, metric: metricsOf(q.metric_name), source: q.source, refresh: q.refresh }, SCOPE),
      zeroNulls,
    ),
  );
  route('series', 'Series per metric (default: the last 30 days, daily)', s.seriesQuery, s.seriesResponse, async (org, q, reply) =>
    sendJson(
      reply,
      await series(
        ctx,
        { orgId: org, start: q.start_date, end: q.end_date, tz: q.tz, project: q.project, tag: q.tag, metric: metricsOf(q.metric_name), granularity: q.granularity, source: q.source, refresh: q.refresh },
        SCOPE,
      ),
      projectAsString(q.project, q.tag),
    ),
  );
  route('live-summary', 'Summary computed from raw events', s.liveSummaryQuery, s.summaryResponse, async (org, q, reply) =>
    sendJson(
      reply,
      await liveSummary(ctx, { orgId: org, start: q.start_date, end: q.end_date, tz: q.tz, project: q.project, tag: q.tag, metric: metricsOf(q.metric_name), refresh: q.refresh }, SCOPE),
      zeroNulls,
    ),
  );
  route('live-series', 'Series computed from raw events, with partial_errors', s.liveSeriesQuery, s.seriesResponse, async (org, q, reply) =>
    sendJson(
      reply,
      await liveSeries(
        ctx,
        { orgId: org, start: q.start_date, end: q.end_date, tz: q.tz, project: q.project, tag: q.tag, metric: metricsOf(q.metric_name), granularity: q.granularity, refresh: q.refresh },
        SCOPE,
      ),
      (body) => ({ ...projectAsString(q.project, q.tag)(body), partial_errors: body['partial_errors'] ?? [] }),
    ),
  );
  route('recent-activity', 'Latest processed files, newest first (limit: default 10, clamped to 50)', s.recentActivityQuery, s.recentActivityResponse, async (org, q, reply) => {
    const limit = activityLimit(q.limit);
    if (limit === 0) {
      await loadOrganization(ctx, org);
      return reply.type('application/json; charset=utf-8').send('{"activity":[]}');
    }
    return sendJson(reply, await recentActivity(ctx, { orgId: org, limit, tz: q.tz, refresh: q.refresh, filesOnly: true }));
  });
  route('workflow-token-usage', 'LLM usage per deployment of one type (API by default), over at most the last 30 days', s.deploymentUsageQuery, s.deploymentUsageResponse, async (org, q, reply) =>
    sendJson(reply, await unstractDeploymentUsage(ctx, { orgId: org, start_date: q.start_date, end_date: q.end_date, deployment_type: q.deployment_type, tz: q.tz, refresh: q.refresh })),
  );
  route('health', 'Database and cache checks: 200 when both are ok, else 503', s.emptyQuery, s.healthResponse, async (org, _q, reply) => {
    const report = await health(ctx);
    // With the database up, an admin key asking about a missing organization gets a 404.
    if (report.checks.database === 'ok') await loadOrganization(ctx, org);
    const checks = {
      database: report.checks.database === 'ok' ? { status: 'ok' } : { status: 'error', message: 'the database did not answer' },
      cache: report.checks.cache === 'ok' ? { status: 'ok' } : { status: 'error', message: 'the cache did not answer' },
    };
    const healthy = checks.database.status === 'ok' && checks.cache.status === 'ok';
    return reply
      .code(healthy ? 200 : 503)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ healthy, checks, timestamp: report.timestamp }));
  });
}
