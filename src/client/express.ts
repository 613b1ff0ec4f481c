import { DEFAULT_MODEL_HEADER, call, headerText, recordRequest } from './request-log.ts';
import type { RequestEventSink, RequestLogOptions } from './request-log.ts';

/**
 * `meterboard/client/express`: Express (4 and 5) middleware that records every answered
 * request as an `api_request` event through a Meterboard client — seed 002's
 * RequestLoggingMiddleware. It only listens for the response's end, so it never delays a
 * request, and a meterboard outage never reaches the host application. Express itself is not
 * imported: the types below are the few members the middleware reads.
 *
 *   app.use(meterboardRequestLog({ client, getUserId: (req) => req.user?.id }));
 */

export interface ExpressLikeRequest {
  method: string;
  baseUrl?: string;
  route?: { path?: unknown };
  ip?: string;
  socket?: { remoteAddress?: string };
}

export interface ExpressLikeResponse {
  statusCode: number;
  locals?: Record<string, unknown>;
  getHeader(name: string): unknown;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

export interface MeterboardExpressOptions<Req extends ExpressLikeRequest = ExpressLikeRequest, Res extends ExpressLikeResponse = ExpressLikeResponse>
  extends RequestLogOptions<Req, Res> {
  client: RequestEventSink;
}

/** `/orders/:id` under a router mounted at `/api` → `/api/orders/:id`; no route matched → undefined. */
function routePattern(request: ExpressLikeRequest): string | undefined {
  const path = request.route?.path;
  if (typeof path !== 'string') return path instanceof RegExp ? `${request.baseUrl ?? ''}${String(path)}` : undefined;
  return `${request.baseUrl ?? ''}${path}` || '/';
}

export function meterboardRequestLog<Req extends ExpressLikeRequest = ExpressLikeRequest, Res extends ExpressLikeResponse = ExpressLikeResponse>(
  options: MeterboardExpressOptions<Req, Res>,
): (request: Req, response: Res, next: (error?: unknown) => void) => void {
  if (!options?.client) throw new TypeError('meterboardRequestLog: the `client` option (a Meterboard instance) is required');
  const modelHeader = options.modelHeader ?? DEFAULT_MODEL_HEADER;
  return (request, response, next) => {
    const started = performance.now();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      call(() => {
        if (options.ignore?.(request)) return;
        const local = response.locals?.['model'];
        recordRequest(options.client, options, {
          request,
          response,
          endpoint: routePattern(request),
          method: request.method,
          statusCode: response.statusCode,
          latencyMs: performance.now() - started,
          ip: request.ip ?? request.socket?.remoteAddress,
          modelFromResponse: headerText(response.getHeader(modelHeader)) ?? (typeof local === 'string' ? local : undefined),
        });
      }, options.onError);
    };
    // `finish` once the answer is handed to the OS; `close` also covers clients that hung up.
    call(() => {
      response.once('finish', record);
      response.once('close', record);
    }, options.onError);
    next();
  };
}

export default meterboardRequestLog;
