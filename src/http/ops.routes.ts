import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/context.ts';
import { health } from '../app/query/health.ts';
import { UnauthorizedError } from '../domain/errors.ts';
import { bearerToken } from './auth.ts';

/** Liveness, readiness and Prometheus metrics: unauthenticated, for orchestrators and scrapers. */

/** Renders the Prometheus exposition (the prom-client telemetry adapter is one). */
export interface MetricsExporter {
  readonly contentType: string;
  render(): Promise<string>;
}

export function isMetricsExporter(value: unknown): value is MetricsExporter {
  const candidate = value as Partial<MetricsExporter> | null;
  return typeof candidate?.render === 'function' && typeof candidate.contentType === 'string';
}

const readySchema = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']).describe('degraded: the cache is down but queries are answered from the database'),
  checks: z.object({ database: z.enum(['ok', 'down']), cache: z.enum(['ok', 'degraded']) }),
});

export function registerOpsRoutes(app: FastifyInstance, ctx: Parameters<typeof health>[0] & Pick<AppContext, 'config'>, metrics: MetricsExporter | undefined): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/health', {
    schema: { tags: ['operations'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ status: 'ok' as const }),
  });

  api.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: database and cache checks (503 when the database is down)',
      response: { 200: readySchema, 503: readySchema },
    },
    handler: async (_request, reply) => {
      const { healthy, checks } = await health(ctx);
      const status = !healthy ? 'unavailable' : checks.cache === 'ok' ? 'ok' : 'degraded';
      return reply.code(healthy ? 200 : 503).send({ status, checks });
    },
  });

  api.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format)',
      produces: ['text/plain'],
      response: { 200: z.string() },
    },
    handler: async (request, reply) => {
      // Process and job health only (no organization's numbers), optionally behind a token.
      const token = ctx.config.metricsToken;
      if (token !== undefined && bearerToken(request) !== token) {
        throw new UnauthorizedError('GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"');
      }
      if (!metrics) return reply.code(200).type('text/plain; version=0.0.4; charset=utf-8').send('');
      const body = await metrics.render();
      return reply.type(metrics.contentType).send(body);
    },
  });
}
