import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../app/context.ts';
import { bearerToken } from './auth.ts';
import { sendError } from './errors.ts';

/**
 * Abuse limits (SPEC §4: 429 with Retry-After, in the standard error shape), both counted by
 * @fastify/rate-limit's store: in server mode Redis, so N servers share one budget; when Redis
 * is away the limits are skipped (skipOnError) rather than failing requests; embedded, memory.
 * - every API key gets `RATE_LIMIT_PER_KEY` requests a minute (requests without a key count
 *   per client IP).
 * - a client IP that failed authentication `RATE_LIMIT_AUTH_FAILURES` times in a minute is
 *   refused for the rest of that minute (key guessing), before its key is even looked at, so
 *   a right guess answers the same 429 as a wrong one.
 */

const WINDOW_MS = 60_000;
const UNLIMITED = new Set(['/health', '/ready', '/metrics']);
const isUnlimited = (request: FastifyRequest): boolean => UNLIMITED.has(request.url.split('?', 1)[0]!);

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

/** Counts 401s per client address in the limiter's store and refuses the address once over budget. */
const failedAuthentications = fp(async (app: FastifyInstance, options: { max: number }) => {
  const limiter = app.createRateLimit({ max: options.max, timeWindow: WINDOW_MS, keyGenerator: (request) => `authfail:${request.ip}` });
  app.addHook('onRequest', async (request, reply) => {
    if (isUnlimited(request)) return;
    const status = await limiter(request, { increment: false });
    if (status.isAllowed || status.remaining > 0) return;
    const seconds = Math.max(1, status.ttlInSeconds);
    return tooMany(reply, seconds, `too many failed authentications from this address; retry in ${seconds} s`);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401) await limiter(request);
  });
});

export function installRateLimits(app: FastifyInstance, ctx: AppContext, options: RateLimitOptions = {}): void {
  const { perKeyPerMinute, authFailuresPerMinute } = ctx.config.rateLimits;

  void app.register(rateLimit, {
    global: true,
    max: perKeyPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: keyId,
    nameSpace: 'meterboard:ratelimit:',
    skipOnError: true,
    ...(options.redis !== undefined ? { redis: options.redis } : {}),
    allowList: isUnlimited,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'rate_limited',
      message: `rate limit of ${context.max} requests per minute for this key exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  void app.register(failedAuthentications, { max: authFailuresPerMinute });
}
