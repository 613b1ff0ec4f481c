import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.ts';
import { loadOrganization } from '../../app/query/scope.ts';
import { authenticate, authorizeOrg } from '../../http/auth.ts';
import { bearerSecurity, errorResponses, orgParamsSchema } from '../../http/schemas.ts';
import { createAlertRule, deleteAlertRule, listAlertRules } from '../app/manage-rules.ts';
import { alertRuleSchema } from '../domain/rule.ts';
import type { AlertEventRecord, StoredAlertRule } from '../ports.ts';

/** Alert rules (admin key) and the alert history (read key), issue 10 step 5. */

const tags = ['alerts'];

/** What a rule watches, as rules and active alerts both show it. */
const watchedFields = {
  metric: z.string(),
  dimension: z.object({ name: z.string(), value: z.string() }).optional(),
  condition: z.enum(['above', 'below', 'change_pct']),
  threshold: z.number(),
  window: z.enum(['1h', '24h', '7d']),
  compare_to: z.enum(['1d', '7d', '30d']).optional(),
};

const ruleResponse = z.object({
  id: z.string(),
  name: z.string(),
  ...watchedFields,
  channels: z.array(z.enum(['email', 'webhook'])),
  state: z.enum(['ok', 'breaching']),
  since: z.string(),
  last_value: z.number().nullable(),
  managed_by: z.enum(['api', 'config']).describe('config: from the config file; the API cannot delete it or reuse its name (409)'),
});
const ledgerResponse = z.object({
  channel: z.enum(['email', 'webhook']),
  status: z.enum(['pending', 'sending', 'delivered', 'failed']).describe('failed: waiting for a retry (never dropped)'),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string().nullable().describe('When a failed notification is tried again'),
  delivered_at: z.string().nullable(),
});
const eventResponse = z.object({
  id: z.number().int(),
  rule_id: z.string(),
  rule_name: z.string(),
  kind: z.enum(['breach', 'recovery']),
  value: z.number().nullable(),
  threshold: z.number(),
  at: z.string(),
  deliveries: z.record(z.string(), z.string()).describe('Channel → "delivered", "pending", or the error of the last failed attempt (retried with backoff)'),
  delivery: z.array(ledgerResponse),
});
const activeResponse = z.object({
  rule_id: z.string(),
  name: z.string(),
  ...watchedFields,
  since: z.string(),
  value: z.number().nullable(),
});

const ruleJson = (rule: StoredAlertRule): z.infer<typeof ruleResponse> => ({
  id: rule.id,
  ...rule.definition,
  state: rule.state,
  since: new Date(rule.stateSince).toISOString(),
  last_value: rule.lastValue,
  managed_by: rule.configKey === null ? 'api' : 'config',
});
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const activeJson = (rule: StoredAlertRule): z.infer<typeof activeResponse> => {
  const { channels: _channels, ...definition } = rule.definition;
  return { rule_id: rule.id, ...definition, since: new Date(rule.stateSince).toISOString(), value: rule.lastValue };
};
const eventJson = (event: AlertEventRecord): z.infer<typeof eventResponse> => ({
  id: event.id,
  rule_id: event.ruleId,
  rule_name: event.ruleName,
  kind: event.kind,
  value: event.value,
  threshold: event.threshold,
  at: new Date(event.at).toISOString(),
  deliveries: event.deliveries,
  delivery: event.ledger.map((d) => ({
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    last_error: d.lastError,
    next_attempt_at: d.status === 'delivered' ? null : iso(d.nextAttemptAt),
    delivered_at: iso(d.deliveredAt),
  })),
});

export function registerAlertRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const ORG = '/api/v1/orgs/:org';

  api.get(`${ORG}/alerts`, {
    schema: { tags, summary: 'Alert rules with their state (admin key)', security: bearerSecurity, params: orgParamsSchema, response: { 200: z.object({ alerts: z.array(ruleResponse) }), ...errorResponses(401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      return reply.send({ alerts: (await listAlertRules(ctx, request.params.org)).map(ruleJson) });
    },
  });

  api.post(`${ORG}/alerts`, {
    schema: { tags, summary: 'Create an alert rule (admin key)', security: bearerSecurity, params: orgParamsSchema, body: alertRuleSchema, response: { 201: ruleResponse, ...errorResponses(400, 401, 403, 404, 409, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      return reply.code(201).send(ruleJson(await createAlertRule(ctx, request.params.org, request.body)));
    },
  });

  api.delete(`${ORG}/alerts/:id`, {
    schema: { tags, summary: 'Delete an alert rule (admin key)', security: bearerSecurity, params: orgParamsSchema.extend({ id: z.string().min(1).max(64) }), response: { 204: z.null().describe('Deleted'), ...errorResponses(401, 403, 404, 409, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'admin');
      await deleteAlertRule(ctx, request.params.org, request.params.id);
      return reply.code(204).send(null);
    },
  });

  api.get(`${ORG}/alerts/active`, {
    schema: { tags, summary: 'Rules breaching now, longest first (read key; the dashboard list)', security: bearerSecurity, params: orgParamsSchema, response: { 200: z.object({ active: z.array(activeResponse) }), ...errorResponses(401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      const breaching = (await listAlertRules(ctx, request.params.org)).filter((r) => r.state === 'breaching').sort((a, b) => a.stateSince - b.stateSince);
      return reply.send({ active: breaching.map(activeJson) });
    },
  });

  api.get(`${ORG}/alerts/events`, {
    schema: { tags, summary: 'Alert history, newest first (read key)', security: bearerSecurity, params: orgParamsSchema, querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }), response: { 200: z.object({ events: z.array(eventResponse) }), ...errorResponses(400, 401, 403, 404, 503) } },
    handler: async (request, reply) => {
      authorizeOrg(await authenticate(request, ctx), request.params.org, 'read');
      const org = await loadOrganization(ctx, request.params.org);
      return reply.send({ events: (await ctx.alerts.store.listEvents(org.id, request.query.limit)).map(eventJson) });
    },
  });
}
