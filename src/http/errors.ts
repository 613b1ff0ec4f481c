import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.ts';
import { drainRequestBody } from './connection-guards.ts';
import type { DomainErrorCode, FieldIssue } from '../domain/errors.ts';

/**
 * The one place errors become HTTP answers: `{ error: { code, message, details? } }`.
 * Domain errors map by code (adapters already turned their drivers' outage errors into
 * UnavailableError, hence 503; nothing here knows a driver); fastify's own errors (bad JSON, body too large, unsupported media
 * type, schema validation) are converted to the same shape; anything else is a 500 whose
 * body says nothing about the internals (the stack goes to the log only).
 */

export const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface HttpError {
  status: number;
  body: ErrorBody;
}

interface SchemaValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldFromPointer(pointer: string | undefined, params: Record<string, unknown> | undefined): string {
  const segments = (pointer ?? '').split('/').filter(Boolean);
  // ajv reports a missing property on its parent object
  const missing = params?.['missingProperty'] ?? params?.['additionalProperty'];
  if (typeof missing === 'string') segments.push(missing);
  // zod names unknown keys in `keys`
  const unknownKeys = params?.['keys'];
  if (Array.isArray(unknownKeys) && unknownKeys.length > 0) segments.push(unknownKeys.map(String).join(','));
  return segments.join('.');
}

function schemaValidationError(error: FastifyError): HttpError {
  const context = (error as { validationContext?: string }).validationContext ?? 'request';
  const validation = (error.validation ?? []) as SchemaValidationIssue[];
  const issues: FieldIssue[] = validation.map((issue) => ({
    field: fieldFromPointer(issue.instancePath, issue.params) || context,
    message: issue.message ?? 'is invalid',
  }));
  const first = issues[0];
  const message = first ? `${first.field}: ${first.message}` : `${context} is invalid`;
  return { status: 400, body: { error: { code: 'validation', message, details: { issues } } } };
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'request body is empty; send a JSON document' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: 'a path segment is longer than 100 characters' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_request', message: 'the URL is malformed (bad percent-encoding)' },
  FST_ERR_HANDLER_TIMEOUT: { status: 503, code: 'timeout', message: 'the request took too long and was abandoned; narrow the query or retry' },
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
  429: 'rate_limited',
  503: 'unavailable',
};

export function toHttpError(error: unknown, request?: { bodyLimit?: number; contentType?: string }): HttpError {
  if (error instanceof DomainError) {
    const status = STATUS_BY_CODE[error.code];
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    return { status, body };
  }
  const fastifyError = error as FastifyError;
  if (Array.isArray(fastifyError?.validation)) return schemaValidationError(fastifyError);
  const known = fastifyError?.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) {
    let message = known.message ?? fastifyError.message;
    if (known.status === 413 && request?.bodyLimit !== undefined) {
      message = `request body is larger than ${request.bodyLimit} bytes (limit applies after decompression)`;
    }
    if (known.status === 415) message = `unsupported media type "${request?.contentType ?? ''}"; send application/json or application/x-ndjson`;
    return { status: known.status, body: { error: { code: known.code, message } } };
  }
  const status = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, body: { error: { code: CODE_BY_STATUS[status] ?? 'bad_request', message: fastifyError.message } } };
  }
  if (status === 503) return { status, body: { error: { code: 'unavailable', message: 'service temporarily unavailable' } } };
  return { status: 500, body: { error: { code: 'internal', message: 'internal server error' } } };
}

export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.body);
}

/** For fastify's `frameworkErrors` option: router errors (414, bad URL) in the same shape. */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, toHttpError(error));
}

/** Installs the error and not-found handlers on the root instance (child plugins inherit them). */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const httpError = toHttpError(error, { bodyLimit: request.routeOptions.bodyLimit, contentType: request.headers['content-type'] });
    if (httpError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: httpError.body.error.code, status: httpError.status }, httpError.body.error.message);
    // A refused body still on its way: read it (bounded) first, or the client gets EPIPE instead of the 413.
    if (httpError.status === 413) return drainRequestBody(request.raw).then(() => sendError(reply.header('connection', 'close'), httpError));
    return sendError(reply, httpError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, { status: 404, body: { error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` } } }),
  );
}
