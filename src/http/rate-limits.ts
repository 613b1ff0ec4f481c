import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app/context.ts';
import { bearerToken } from './auth.ts';
import { sendError } from './errors.ts';

/**
 * Abuse limits (SPEC §4: 429 with Retry-After, in the standard error shape):
 * - every API key gets `RATE_LIMIT_PER_KEY` requests a minute (requests without a key count
 *   per client IP). In server mode the counters live in Redis, so N servers share one budget;
 *   when Redis is away the limit is skipped rather than failing requests.
 * - a client IP that failed authentication `RATE_LIMIT_AUTH_FAILURES` times in a minute is
 *   refused for the rest of that minute (key guessing). These counters are per process.
 */

const WINDOW_MS = 60_000;

function keyId(request: FastifyRequest): string {
  const token = bearerToken(request);
  // A hash, so key secrets are never written to Redis.
  return token === undefined ? `ip:${request.ip}` : `key:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;
}

export interface RateLimitOptions {
  /** An ioredis client (server mode); per-process memory when absent. */
  redis?: unknown;
}

function tooMany(reply: FastifyReply, retryAfterSeconds: number, message: string): FastifyReply {
  void reply.header('retry-after', String(retryAfterSeconds));
  return sendError(reply, { status: 429, body: { error: { code: 'rate_limited', message } } });
}

export function installRateLimits(app: FastifyInstance, ctx: AppContext, options: RateLimitOptions = {}): void {
  const { perKeyPerMinute, authFailuresPerMinute } = ctx.config.rateLimits;

  const failures = new Map<string, { count: number; resetAt: number }>();
  app.addHook('onRequest', async (request, reply) => {
    const entry = failures.get(request.ip);
    if (entry === undefined) return;
    const now = Date.now();
    if (now >= entry.resetAt) {
      failures.delete(request.ip);
      return;
    }
    if (entry.count >= authFailuresPerMinute) {
      return tooMany(reply, Math.ceil((entry.resetAt - now) / 1000), `too many failed authentications from this address; retry in ${Math.ceil((entry.resetAt - now) / 1000)} s`);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 401) return;
    const now = Date.now();
    const entry = failures.get(request.ip);
    if (entry === undefined || now >= entry.resetAt) failures.set(request.ip, { count: 1, resetAt: now + WINDOW_MS });
    else entry.count += 1;
    // Bounded memory under a spray of addresses: forget the oldest.
    if (failures.size > 100_000) failures.delete(failures.keys().next().value as string);
  });

  void app.register(rateLimit, {
    global: true,
    max: perKeyPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: keyId,
    nameSpace: 'meterboard:ratelimit:',
    skipOnError: true,
    ...(options.redis !== undefined ? { redis: options.redis } : {}),
    allowList: (request) => request.url === '/health' || request.url === '/ready' || request.url === '/metrics',
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'rate_limited',
      message: `rate limit of ${context.max} requests per minute for this key exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
}
