import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { AppContext } from '../app/context.ts';
import type { OnTimezoneChanged } from '../app/manage-orgs.ts';
import { installBodyParsers } from './body-parsers.ts';
import { clientErrorHandler, installExpectContinue } from './connection-guards.ts';
import { frameworkErrorHandler, installErrorHandling } from './errors.ts';
import { installRateLimits } from './rate-limits.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { registerIngestRoutes } from './ingest.routes.ts';
import { installSchemaCompilers, registerOpenApi } from './openapi.ts';
import { isMetricsExporter, registerOpsRoutes } from './ops.routes.ts';
import type { MetricsExporter } from './ops.routes.ts';
import { registerOrgRoutes } from './orgs.routes.ts';
import { installResponseCheck } from './response-check.ts';

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A route file's entry point: adds its routes to the (encapsulated) instance it is given. */
export type RouteModule = (app: FastifyInstance, ctx: AppContext) => void | Promise<void>;

export interface ServerOptions {
  /** Defaults to pino at `config.logLevel`; tests pass `false`. */
  logger?: FastifyServerOptions['logger'];
  /** Renders GET /metrics; defaults to `ctx.telemetry` when it can render (the prom-client adapter). */
  metrics?: MetricsExporter;
  /** Rebuilds an organization's rollups after its time zone changed (supplied by the aggregation code). */
  onTimezoneChanged?: OnTimezoneChanged;
  /** Further route files (query, admin, web), registered after the built-in ones, in order. */
  routes?: readonly RouteModule[];
  /** API version shown in the OpenAPI document. */
  version?: string;
  trustProxy?: FastifyServerOptions['trustProxy'];
  /** Tests: check every JSON answer against its route's response schema (response-check.ts). */
  checkResponses?: boolean;
  /** ioredis client for rate-limit counters shared by every server (server mode). */
  rateLimitRedis?: unknown;
}

/** Health checks, the Prometheus scrape and the dashboard's static files: not worth an info line per request. */
export function isQuietRoute(url: string): boolean {
  if (url === '/health' || url === '/ready' || url === '/metrics') return true;
  return !(url.startsWith('/api') || url.startsWith('/v1/'));
}

/**
 * Builds the HTTP server over an AppContext without listening (tests use `app.inject`).
 * Closing it never closes storage or cache: whoever built the context owns them.
 */
export function buildServer(ctx: AppContext, options: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? { level: ctx.config.logLevel, redact: ['req.headers.authorization'] },
    trustProxy: options.trustProxy ?? false,
    // Ingest raises its own limit to config.limits.maxBodyBytes; everything else is small.
    bodyLimit: DEFAULT_BODY_LIMIT,
    forceCloseConnections: 'idle',
    // Abandon a handler after REQUEST_TIMEOUT (503 `timeout`), and a request whose headers and body take over 2 min.
    handlerTimeout: ctx.config.requestTimeoutMs,
    requestTimeout: 120_000,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });

  installExpectContinue(app, (path) => (path === '/api/v1/events' ? ctx.config.limits.maxBodyBytes : DEFAULT_BODY_LIMIT));
  installSecurityHeaders(app);
  installRateLimits(app, ctx, { redis: options.rateLimitRedis });
  installSchemaCompilers(app);
  installErrorHandling(app);
  installBodyParsers(app);
  if (options.checkResponses) installResponseCheck(app);

  // Probes, scrapes and dashboard files would drown the log at info; they still log warnings and errors.
  app.addHook('onRoute', (route) => {
    if (isQuietRoute(route.url)) route.logLevel = 'warn';
  });
  registerOpenApi(app, { version: options.version ?? '0.1.0' });
  const metrics = options.metrics ?? (isMetricsExporter(ctx.telemetry) ? ctx.telemetry : undefined);
  void app.register(async (scope) => registerOpsRoutes(scope, ctx, metrics));
  void app.register(async (scope) => registerOrgRoutes(scope, ctx, { onTimezoneChanged: options.onTimezoneChanged }));
  void app.register(async (scope) => registerIngestRoutes(scope, ctx));
  for (const routes of options.routes ?? []) void app.register(async (scope) => routes(scope, ctx));

  return app;
}

/**
 * The worker's own small server (`meterboard worker`, on WORKER_PORT): /health, /ready and
 * /metrics only, so every process that runs jobs can be scraped for job health.
 */
export function buildHealthServer(ctx: AppContext, options: Pick<ServerOptions, 'logger' | 'metrics'> = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? { level: ctx.config.logLevel }, forceCloseConnections: 'idle' });
  installSchemaCompilers(app);
  installErrorHandling(app);
  const metrics = options.metrics ?? (isMetricsExporter(ctx.telemetry) ? ctx.telemetry : undefined);
  void app.register(async (scope) => registerOpsRoutes(scope, ctx, metrics));
  return app;
}
