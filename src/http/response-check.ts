import type { FastifyInstance } from 'fastify';
import { $ZodType } from 'zod/v4/core';
import type { z } from 'zod';

/**
 * Tests turn this on (ServerOptions.checkResponses): every JSON answer is parsed against its
 * route's declared response schema for its status code, including answers sent as
 * pre-serialized JSON strings or bytes, which fastify's serializer never sees (the query
 * answers, computed or cached). A mismatch fails the request with a 500 naming the route and the field, so
 * the response schemas, the OpenAPI document and the code cannot drift apart unnoticed.
 */
export function installResponseCheck(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const responses = request.routeOptions.schema?.response as Record<string, unknown> | undefined;
    const status = reply.statusCode;
    const schema = responses?.[String(status)] ?? responses?.[`${String(status)[0]}xx`] ?? responses?.['default'];
    if (!(schema instanceof $ZodType)) return payload;
    const contentType = String(reply.getHeader('content-type') ?? '');
    if (!contentType.includes('json')) return payload;
    // Cached answers go out as the stored bytes (ADR 0018): checked like any other answer.
    const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    if (text === undefined) return payload;
    const parsed = (schema as unknown as z.ZodType).safeParse(JSON.parse(text));
    if (parsed.success) return payload;
    const issue = parsed.error.issues[0]!;
    const message = `response ${status} of ${request.method} ${request.routeOptions.url ?? request.url} does not match its schema at "${issue.path.join('.')}": ${issue.message}`;
    request.log.error({ issues: parsed.error.issues.slice(0, 5) }, message);
    throw new Error(message);
  });
}
