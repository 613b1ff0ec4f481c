import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DEFAULT_MODEL_HEADER, call, headerText, recordRequest } from './request-log.ts';
import type { RequestEventSink, RequestLogOptions } from './request-log.ts';

/**
 * `meterboard/client/fastify`: a Fastify plugin that records every answered request as an
 * `api_request` event through a Meterboard client. It hooks `onResponse` (after the answer is
 * sent), so it adds no latency to the request and a meterboard outage never reaches it.
 *
 *   await app.register(meterboardRequestLog, { client, getUserId: (req) => req.user?.id });
 */

export interface MeterboardFastifyOptions extends RequestLogOptions<FastifyRequest, FastifyReply> {
  client: RequestEventSink;
}

const plugin: FastifyPluginAsync<MeterboardFastifyOptions> = async (app: FastifyInstance, options: MeterboardFastifyOptions) => {
  if (!options?.client) throw new TypeError('meterboardRequestLog: the `client` option (a Meterboard instance) is required');
  const modelHeader = (options.modelHeader ?? DEFAULT_MODEL_HEADER).toLowerCase();
  app.addHook('onResponse', (request, reply, done) => {
    call(() => {
      if (options.ignore?.(request)) return;
      recordRequest(options.client, options, {
        request,
        response: reply,
        // the route pattern (/users/:id), never the raw URL with its ids and query string
        endpoint: request.routeOptions?.url ?? undefined,
        method: request.method,
        statusCode: reply.statusCode,
        latencyMs: reply.elapsedTime,
        ip: request.ip,
        modelFromResponse: headerText(reply.getHeader(modelHeader)),
      });
    }, options.onError);
    done();
  });
};

export const meterboardRequestLog = fp(plugin, { name: 'meterboard-request-log', fastify: '4.x || 5.x' });
export default meterboardRequestLog;
