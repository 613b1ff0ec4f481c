import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.ts';
import { loadOrganization } from '../../app/query/scope.ts';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import { localDate } from '../../domain/time-buckets.ts';
import { authenticate, authorizeOrg } from '../../http/auth.ts';
import { bearerSecurity, errorResponses, orgParamsSchema } from '../../http/schemas.ts';
import { buildReport } from '../app/build-report.ts';
import { getReportSettings, updateReportSettings } from '../app/report-settings.ts';
import type { DeliveryRecord, ReportSettings } from '../ports.ts';

/** Daily report preview, history and delivery settings (SPEC §4/§6, issue 10). */

const tags = ['reports'];
const previewQuery = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional().describe('Local date; default yesterday in the org zone'),
  format: z.enum(['json', 'html']).default('json'),
});
const historyQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(60) });
const settingsBody = z
  .object({
    recipients: z.array(z.string().max(320)).optional().describe('E-mail addresses of the daily report'),
    webhook_url: z.string().max(2000).nullable().optional().describe('POSTed the report JSON plus Slack-compatible text/blocks; null removes it'),
  })
  .strict();
const settingsResponse = z.object({ recipients: z.array(z.string()), webhook_url: z.string().nullable() });

const historyResponse = z.object({
  reports: z.array(
    z.object({
      date: z.string(),
      status: z.enum(['delivered', 'failed', 'pending']),
      deliveries: z.array(
        z.object({
          channel: z.enum(['email', 'webhook']),
          status: z.enum(['pending', 'sending', 'delivered', 'failed']),
          attempts: z.number().int(),
          last_error: z.string().nullable(),
          next_attempt_at: z.string().nullable(),
          delivered_at: z.string().nullable(),
        }),
      ),
    }),
  ),
});

/** Pre-serialized bodies (report JSON, HTML) go out as they are. */
function sendText(reply: FastifyReply, contentType: string, body: string): FastifyReply {
  return reply.type(contentType).send(body);
}

const settingsJson = (s: ReportSettings) => ({ recipients: s.recipients, webhook_url: s.webhookUrl });
const deliveryJson = (d: DeliveryRecord) => ({
  channel: d.channel,
  status: d.status,
  attempts: d.attempts,
  last_error: d.lastError,
  next_attempt_at: d.status === 'delivered' ? null : new Date(d.nextAttemptAt).toISOString(),
  delivered_at: d.deliveredAt === null ? null : new Date(d.deliveredAt).toISOString(),
});

export function registerReportRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const ORG = '/api/v1/orgs/:org';

  api.get(`${ORG}/reports/daily`, {
    schema: { tags, summary: 'The daily report of a local date (read key), built now from the rollups', security: bearerSecurity, params: orgParamsSchema, querystring: previewQuery, response: { 200: z.record(z.string(), z.unknown()).describe('The report JSON (org, date, summary, sections, gauges, trends), or text/html'), ...errorResponses(400, 401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      const { date } = request.query;
      if (date !== undefined) {
        // A day that has not begun has no data: an empty report would read as a day without traffic.
        const org = await loadOrganization(ctx, request.params.org);
        const today = localDate(ctx.clock.now(), org.timezone);
        if (date > today) throw ValidationError.field('date', `${date} has not begun in ${org.timezone}: the latest day that can be asked for is ${today} (today, so far)`);
      }
      const rendered = await buildReport(ctx, { orgId: request.params.org, date });
      if (request.query.format === 'html') return sendText(reply, 'text/html; charset=utf-8', rendered.previewHtml);
      return sendText(reply, 'application/json; charset=utf-8', JSON.stringify(rendered.report));
    },
  });

  api.get(`${ORG}/reports/latest`, {
    schema: { tags, summary: 'The latest report as it was sent (read key)', security: bearerSecurity, params: orgParamsSchema, querystring: z.object({ format: z.enum(['json', 'html']).default('json') }), response: { 200: z.record(z.string(), z.unknown()).describe('The archived report JSON, or its HTML'), ...errorResponses(401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      const org = await loadOrganization(ctx, request.params.org);
      const snapshot = await ctx.reports.store.latestSnapshot(org.id);
      if (snapshot === null) throw new NotFoundError(`no report has been sent for organization "${org.id}" yet`);
      if (request.query.format === 'html') return sendText(reply, 'text/html; charset=utf-8', snapshot.html);
      return sendText(reply, 'application/json; charset=utf-8', snapshot.json);
    },
  });

  api.get(`${ORG}/reports`, {
    schema: { tags, summary: 'Report history with delivery status per channel (read key)', security: bearerSecurity, params: orgParamsSchema, querystring: historyQuery, response: { 200: historyResponse, ...errorResponses(400, 401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      const org = await loadOrganization(ctx, request.params.org);
      const rows = await ctx.reports.store.listDeliveries(org.id, request.query.limit);
      const byDate = new Map<string, DeliveryRecord[]>();
      for (const row of rows) byDate.set(row.date, [...(byDate.get(row.date) ?? []), row]);
      const body = {
        reports: [...byDate.entries()].map(([date, list]) => ({
          date,
          status: list.every((d) => d.status === 'delivered') ? 'delivered' : list.some((d) => d.status === 'failed') ? 'failed' : 'pending',
          deliveries: list.map(deliveryJson),
        })),
      };
      return sendText(reply, 'application/json; charset=utf-8', JSON.stringify(body));
    },
  });

  api.get(`${ORG}/reports/settings`, {
    schema: { tags, summary: 'Report recipients and webhook (admin key)', security: bearerSecurity, params: orgParamsSchema, response: { 200: settingsResponse, ...errorResponses(401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      return reply.send(settingsJson(await getReportSettings(ctx, request.params.org)));
    },
  });

  api.put(`${ORG}/reports/settings`, {
    schema: { tags, summary: 'Set report recipients and/or webhook (admin key)', security: bearerSecurity, params: orgParamsSchema, body: settingsBody, response: { 200: settingsResponse, ...errorResponses(400, 401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      return reply.send(settingsJson(await updateReportSettings(ctx, request.params.org, request.body)));
    },
  });
}
