import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { aggregates } from '../app/query/aggregates.ts';
import { breakdown } from '../app/query/breakdown.ts';
import type { CachedJson } from '../app/query/cached-query.ts';
import { compare } from '../app/query/compare.ts';
import { dashboard } from '../app/query/dashboard.ts';
import { exportCsv } from '../app/query/export-csv.ts';
import { liveSeries } from '../app/query/live-series.ts';
import { liveSummary } from '../app/query/live-summary.ts';
import { metricsCatalog } from '../app/query/metrics-catalog.ts';
import { overview } from '../app/query/overview.ts';
import { recentActivity } from '../app/query/recent-activity.ts';
import { series } from '../app/query/series.ts';
import { summary } from '../app/query/summary.ts';
import { workflowUsage } from '../app/query/workflow-usage.ts';
import { MAX_RESPONSE_BYTES, MAX_RESPONSE_POINTS } from '../domain/response-cap.ts';
import { registerUnstractRoutes } from '../unstract/routes.ts';
import { authenticate, authorizeOrg } from './auth.ts';
import * as s from './query.schemas.ts';
import { bearerSecurity, errorResponses } from './schemas.ts';

/**
 * The read API (SPEC §4): `/api/v1/orgs/{org}/…`, plus the seed 000 compatible
 * `/api/v1/unstract/{org}/metrics/…/` aliases (src/unstract/) under the same key check. Handlers only parse, authorize (read scope
 * on the organization, or admin), call one query and send its JSON as computed or cached.
 */

const ORG = '/api/v1/orgs/:org';
const CAP = `At most ${MAX_RESPONSE_POINTS} points per answer (buckets × metrics × dimension values kept per metric) and ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB; over that, 400 naming what to narrow (granularity, metric, start/end, limit), checked before any data is read.`;

/** `x-cache` tells the cache state only with DEBUG_HEADERS set: callers must not learn what others asked. */
function cacheHeader(reply: FastifyReply, ctx: AppContext, hit: boolean): FastifyReply {
  return ctx.config.debugHeaders ? reply.header('x-cache', hit ? 'hit' : 'miss') : reply;
}

function send(reply: FastifyReply, answer: CachedJson, ctx: AppContext): FastifyReply {
  cacheHeader(reply, ctx, answer.hit);
  // A Buffer goes out as it is: fastify sets content-length from its size and skips serialization.
  return reply.type('application/json; charset=utf-8').send(answer.body);
}

type QuerySchema = z.ZodType<Record<string, unknown>>;

interface RouteSpec<Q extends QuerySchema> {
  path: string;
  tags: string[];
  summary: string;
  description?: string;
  query: Q;
  response: z.ZodType;
  produces?: string[];
  handle: (org: string, query: z.output<Q>, reply: FastifyReply) => Promise<FastifyReply>;
}

export function registerQueryRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  // Authentication and authorization come first, so a request for a foreign organization
  // learns nothing, not even whether its parameters were valid.
  api.addHook('onRequest', async (request) => {
    const principal = await authenticate(request, ctx);
    authorizeOrg(principal, (request.params as { org?: string }).org ?? '', 'read');
  });

  function route<Q extends QuerySchema>(spec: RouteSpec<Q>, options: { alsoWithoutSlash?: boolean } = {}): void {
    const register = (url: string, hide: boolean) =>
      api.get(url, {
        schema: {
          tags: spec.tags,
          summary: spec.summary,
          ...(spec.description ? { description: spec.description } : {}),
          ...(spec.produces ? { produces: spec.produces } : {}),
          ...(hide ? { hide: true } : {}),
          security: bearerSecurity,
          params: s.orgParams,
          querystring: spec.query,
          response: { 200: spec.response, ...errorResponses(400, 401, 403, 404) },
        },
        handler: async (request, reply) => spec.handle(request.params.org, request.query as z.output<Q>, reply),
      });
    register(spec.path, false);
    if (options.alsoWithoutSlash) register(spec.path.replace(/\/$/, ''), true);
  }

  const tags = ['query'];
  route({
    path: `${ORG}/metrics`,
    tags,
    summary: 'Metric catalog: kinds, units, dimensions (gauges found in the data included)',
    query: s.catalogQuery,
    response: s.catalogResponse,
    handle: async (org, q, reply) => send(reply, await metricsCatalog(ctx, { orgId: org, refresh: q.refresh }), ctx),
  });
  route({
    path: `${ORG}/summary`,
    tags,
    summary: 'Totals per metric over [start, end), exact for any range',
    description: 'Aligned parts from the coarsest rollup tier the source allows, edges from finer tiers and raw events.',
    query: s.summaryQuery,
    response: s.summaryResponse,
    handle: async (org, q, reply) => send(reply, await summary(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/series`,
    tags,
    summary: 'Time series per metric (or per dimension value), gaps filled with zeros unless fill=none',
    description: CAP,
    query: s.seriesQuery,
    response: s.seriesResponse,
    handle: async (org, q, reply) => send(reply, await series(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/overview`,
    tags,
    summary: 'Totals and daily trend (seed 000 overview)',
    query: s.overviewQuery,
    response: s.overviewResponse,
    handle: async (org, q, reply) => send(reply, await overview(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/live-summary`,
    tags,
    summary: 'Summary computed from raw events (no aggregation delay)',
    query: s.liveSummaryQuery,
    response: s.summaryResponse,
    handle: async (org, q, reply) => send(reply, await liveSummary(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/live-series`,
    tags,
    summary: 'Series computed from raw events (no aggregation delay)',
    description: CAP,
    query: s.liveSeriesQuery,
    response: s.seriesResponse,
    handle: async (org, q, reply) => send(reply, await liveSeries(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/breakdown`,
    tags,
    summary: 'Top values of one dimension of one metric, largest first',
    query: s.breakdownQuery,
    response: s.breakdownResponse,
    handle: async (org, q, reply) => send(reply, await breakdown(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/aggregates`,
    tags,
    summary: 'Rollup rows in seed 003 metrics_aggregates shape',
    query: s.aggregatesQuery,
    response: s.aggregatesResponse,
    handle: async (org, q, reply) => send(reply, await aggregates(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/dashboard`,
    tags,
    summary: 'Request dashboard payload (seed 002, camelCase): hour grain for 24h, day otherwise',
    query: s.dashboardQuery,
    response: s.dashboardResponse,
    handle: async (org, q, reply) => send(reply, await dashboard(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/compare`,
    tags,
    summary: 'Each metric on a day against 1, 7 and 30 days before (seed 004)',
    query: s.compareQuery,
    response: s.compareResponse,
    handle: async (org, { include_empty, ...q }, reply) => send(reply, await compare(ctx, { orgId: org, ...q, includeEmpty: include_empty }), ctx),
  });
  route({
    path: `${ORG}/recent-activity`,
    tags,
    summary: 'Latest processed files and executions, newest first (seed 000)',
    query: s.recentActivityQuery,
    response: s.recentActivityResponse,
    handle: async (org, q, reply) => send(reply, await recentActivity(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/workflow-usage`,
    tags,
    summary: 'LLM tokens, calls and cost per workflow (seed 000 workflow-token-usage)',
    query: s.workflowUsageQuery,
    response: s.workflowUsageResponse,
    handle: async (org, q, reply) => send(reply, await workflowUsage(ctx, { orgId: org, ...q }), ctx),
  });
  route({
    path: `${ORG}/export.csv`,
    tags,
    summary: 'The series as CSV (header line, one line per point)',
    description: CAP,
    query: s.exportCsvQuery,
    response: s.csvResponse,
    produces: ['text/csv'],
    handle: async (org, q, reply) => {
      const answer = await exportCsv(ctx, { orgId: org, ...q });
      return cacheHeader(reply, ctx, answer.hit)
        .header('content-disposition', `attachment; filename="${org}-metrics.csv"`)
        .type('text/csv; charset=utf-8')
        .send(answer.csv);
    },
  });

  registerUnstractRoutes(app, ctx);
}
