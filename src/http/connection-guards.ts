import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Connection-level answers fastify does not route: `Expect: 100-continue` with a body over the
 * limit (answered 413 before the client sends it, as curl expects), and client errors of the
 * HTTP parser (400, 408, 431), all in the one error shape.
 */

/** How much of a refused body is read and dropped so the client sees the 413 instead of a broken pipe. */
export const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };

/** The shape of errors.ts's ErrorBody (not imported: errors.ts imports this file). */
function errorJson(code: string, message: string): string {
  const body: { error: { code: string; message: string } } = { error: { code, message } };
  return JSON.stringify(body);
}

/**
 * `limitFor(path)` gives the body limit of the route a path goes to. With a listener on
 * 'checkContinue', Node no longer answers 100 Continue by itself: it is sent here only when
 * the announced body fits.
 */
export function installExpectContinue(app: FastifyInstance, limitFor: (path: string) => number): void {
  app.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const length = Number(request.headers['content-length']);
    const limit = limitFor((request.url ?? '').split('?')[0] ?? '');
    if (Number.isFinite(length) && length > limit) {
      const body = errorJson('payload_too_large', `request body of ${length} bytes is larger than ${limit} bytes; send smaller batches`);
      response.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      response.end(body);
      return;
    }
    response.writeContinue();
    app.server.emit('request', request, response);
  });
}

/** Replaces fastify's client-error answer (its own shape) with ours. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body =
    status === 408
      ? errorJson('request_timeout', 'the request was not received in time')
      : status === 431
        ? errorJson('headers_too_large', 'request headers are too large')
        : errorJson('bad_request', 'malformed HTTP request');
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/**
 * Before a 413 is sent for a body that is still arriving, reads and drops the rest (up to
 * MAX_DRAINED_BYTES), so a client that writes its whole body before reading (Node's fetch)
 * gets the answer instead of EPIPE. Resolves when the body ended, or the bound was reached.
 */
export function drainRequestBody(request: IncomingMessage): Promise<void> {
  // Only a real connection can break under the client (not fastify's inject); never wait long.
  if (request.complete || request.destroyed || !(request.socket instanceof Socket)) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const timer = setTimeout(() => done(), 10_000);
    const done = () => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', done);
      request.off('error', done);
      request.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > MAX_DRAINED_BYTES) done();
    };
    request.on('data', onData);
    request.once('end', done);
    request.once('error', done);
    request.once('close', done);
    request.resume();
  });
}
