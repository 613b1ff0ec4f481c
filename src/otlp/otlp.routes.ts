import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app/context.ts';
import { DomainError } from '../domain/errors.ts';
import { authenticate } from '../http/auth.ts';
import { toHttpError } from '../http/errors.ts';
import { targetOrg } from '../http/ingest.routes.ts';
import { bearerSecurity } from '../http/schemas.ts';
import { ingestOtlpTraces } from './ingest-otlp-traces.ts';
import { decodeTraceRequest, encodeRpcStatus, encodeTraceResponse } from './otlp-proto.ts';
import { flattenTraceRequest, looksLikeTraceRequest } from './otlp-spans.ts';

/**
 * OTLP/HTTP trace ingest (`POST /v1/traces`), as the OpenTelemetry protocol specifies it:
 * protobuf or JSON bodies (optionally gzip-encoded; the shared preParsing hook inflates them),
 * an ExportTraceServiceResponse in the request's encoding with `partialSuccess` for rejected
 * spans, and failures answered with a google.rpc.Status body in that encoding.
 */

const PROTOBUF_TYPES = ['application/x-protobuf', 'application/protobuf'];

/** gRPC status codes of google.rpc.Status, by HTTP status. */
const RPC_CODE_BY_STATUS: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 429: 8, 503: 14 };
const RPC_INTERNAL = 13;

function wantsProtobuf(request: FastifyRequest): boolean {
  const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return PROTOBUF_TYPES.includes(type);
}

function isJson(request: FastifyRequest): boolean {
  return String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400 });
}

function sendStatus(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  const code = RPC_CODE_BY_STATUS[status] ?? RPC_INTERNAL;
  if (status === 503 || status === 429) void reply.header('retry-after', '5');
  if (wantsProtobuf(request)) return reply.code(status).type('application/x-protobuf').send(Buffer.from(encodeRpcStatus(code, message)));
  return reply.code(status).type('application/json').send({ code, message });
}

export function registerOtlpRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { maxBodyBytes, maxEventsPerRequest } = ctx.config.limits;

  app.addContentTypeParser(PROTOBUF_TYPES, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, decodeTraceRequest(body as Buffer));
    } catch (error) {
      done(badRequest(`request body is not a protobuf ExportTraceServiceRequest: ${error instanceof Error ? error.message : String(error)}`), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const httpError = toHttpError(error, { bodyLimit: request.routeOptions.bodyLimit, contentType: request.headers['content-type'] });
    let message = httpError.body.error.message;
    if (httpError.status === 415) message = `unsupported media type "${request.headers['content-type'] ?? ''}"; send application/x-protobuf or application/json`;
    if (httpError.status >= 500) request.log.error({ err: error }, 'OTLP request failed');
    return sendStatus(request, reply, httpError.status, message);
  });

  app.route<{ Querystring: { org?: string } }>({
    method: 'POST',
    url: '/v1/traces',
    bodyLimit: maxBodyBytes,
    schema: {
      tags: ['ingest'],
      summary: 'OTLP/HTTP traces',
      description: [
        'OpenTelemetry OTLP/HTTP trace export (protobuf or JSON, optionally gzip). Spans with GenAI attributes',
        '(gen_ai.request.model, gen_ai.usage.input_tokens, …) become llm_call events, root spans become trace events;',
        'ids derive from trace and span ids, so re-sent spans are stored once. Rejected spans are reported in partialSuccess.',
      ].join(' '),
      security: bearerSecurity,
    },
    onRequest: async (request) => {
      await authenticate(request, ctx);
    },
    handler: async (request, reply) => {
      if (!wantsProtobuf(request) && !isJson(request)) {
        throw Object.assign(new Error('unsupported media type'), { statusCode: 415 });
      }
      const principal = await authenticate(request, ctx);
      const orgId = targetOrg(principal, request.query.org, 'POST /v1/traces');
      if (!looksLikeTraceRequest(request.body)) throw badRequest('body must be an ExportTraceServiceRequest: {"resourceSpans": [...]}');
      const spans = flattenTraceRequest(request.body);
      if (spans.length > maxEventsPerRequest) {
        throw new DomainError('payload_too_large', `at most ${maxEventsPerRequest} spans per request; this one has ${spans.length}`);
      }
      const result = await ingestOtlpTraces(ctx, { orgId, spans });
      const partial = result.rejectedSpans > 0 ? { rejectedSpans: result.rejectedSpans, errorMessage: result.errorMessage } : null;
      if (wantsProtobuf(request)) return reply.type('application/x-protobuf').send(Buffer.from(encodeTraceResponse(partial)));
      return reply.type('application/json').send(partial ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {});
    },
  });
}
