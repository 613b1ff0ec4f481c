import type { ApiRequestFields, AttributeValue } from './events.ts';

/**
 * What the request-logging middleware records for each answered request (seed 002's
 * RequestLog): an `api_request` event with the route pattern, method, status code, latency,
 * model, client IP (the server derives the country) and user. Shared by the Fastify and
 * Express adapters; nothing here may throw into the host application.
 */

/** The part of the client the middleware needs: queueing an event, which never blocks. */
export interface RequestEventSink {
  apiRequest(fields: ApiRequestFields & Record<string, AttributeValue | undefined>): void;
}

export interface RequestLogOptions<Req, Res> {
  /** Response header holding the model that served the request. Default `x-model`. */
  modelHeader?: string;
  /** The model, when it is not in a header (Express: `res.locals.model` is read by default). */
  getModel?: (request: Req, response: Res) => string | undefined | null;
  /** The user behind the request, e.g. from your auth middleware. */
  getUserId?: (request: Req, response: Res) => string | undefined | null;
  /** Cost of the request in USD, when your handler knows it. */
  getCostUsd?: (request: Req, response: Res) => number | undefined | null;
  /** Further flat attributes. */
  getAttributes?: (request: Req, response: Res) => Record<string, AttributeValue | undefined> | undefined;
  /** Requests not to record (health checks…). */
  ignore?: (request: Req) => boolean;
  /** Recorded as the endpoint of requests that matched no route. Default `(unmatched)`. */
  unmatchedEndpoint?: string;
  /** Called when a hook throws; the request is recorded without that field. */
  onError?: (error: unknown) => void;
}

export const DEFAULT_MODEL_HEADER = 'x-model';

export function call<T>(hook: (() => T) | undefined, onError: ((error: unknown) => void) | undefined): T | undefined {
  if (!hook) return undefined;
  try {
    return hook();
  } catch (error) {
    try {
      onError?.(error);
    } catch {
      // the host's error hook itself failed; nothing more to do without risking the request
    }
    return undefined;
  }
}

export function headerText(value: unknown): string | undefined {
  if (Array.isArray(value)) return headerText(value[0]);
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

const present = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

export interface ObservedRequest<Req, Res> {
  request: Req;
  response: Res;
  endpoint: string | undefined;
  method: string;
  statusCode: number;
  latencyMs: number;
  ip: string | undefined;
  modelFromResponse: string | undefined;
}

/** Builds and queues the event; every hook runs guarded. */
export function recordRequest<Req, Res>(sink: RequestEventSink, options: RequestLogOptions<Req, Res>, seen: ObservedRequest<Req, Res>): void {
  const { request, response, onError } = { ...seen, onError: options.onError };
  const model = present(call(options.getModel && (() => options.getModel!(request, response)), onError)) ?? seen.modelFromResponse;
  const userId = present(call(options.getUserId && (() => options.getUserId!(request, response)), onError));
  const cost = present(call(options.getCostUsd && (() => options.getCostUsd!(request, response)), onError));
  const extra = call(options.getAttributes && (() => options.getAttributes!(request, response)), onError) ?? {};
  call(
    () =>
      sink.apiRequest({
        ...extra,
        endpoint: seen.endpoint ?? options.unmatchedEndpoint ?? '(unmatched)',
        method: seen.method.toUpperCase(),
        status_code: seen.statusCode,
        latency_ms: Math.round(seen.latencyMs * 1000) / 1000,
        model,
        ip: seen.ip,
        user_id: userId === undefined ? undefined : String(userId),
        cost_usd: cost,
      }),
    onError,
  );
}
