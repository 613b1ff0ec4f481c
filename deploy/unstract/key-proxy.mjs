#!/usr/bin/env node
/**
 * The Unstract drop-in without nginx: a dependency-free reverse proxy in front of the Unstract
 * frontend's API calls (docs/UNSTRACT.md). The original metrics-dashboard module's calls,
 * `/api/v1/unstract/{org}/metrics/…`, go to meterboard with a read key instead of the
 * browser's session cookie; everything else goes to the Unstract backend unchanged.
 *
 * The Unstract client logs the user out on any 401, so a key meterboard refuses (revoked, or
 * of another organization: 401/403) is answered as a 502 with a `message` the dashboard shows,
 * never passed on as a 401.
 *
 * Environment:
 *   MB_UPSTREAM         meterboard's base URL, e.g. http://127.0.0.1:8080 (required)
 *   MB_READ_KEY         a read key of the organization the paths name (required)
 *   UNSTRACT_UPSTREAM   the Unstract backend's base URL; without it other paths answer 404
 *   PORT, HOST          where to listen (default 8081 on 127.0.0.1)
 * Prints `listening on http://HOST:PORT` once it accepts connections.
 */
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const METRICS_PATH = /^\/api\/v1\/unstract\/[^/?#]+\/metrics(\/|$)/;
/** Headers that describe one hop only and are not forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`key-proxy: ${name} is required (see deploy/unstract/key-proxy.mjs)`);
    process.exit(2);
  }
  return value;
}

function upstreamUrl(name, value) {
  try {
    return new URL(value);
  } catch {
    console.error(`key-proxy: ${name} is not a URL: "${value}"`);
    process.exit(2);
  }
}

const meterboard = upstreamUrl('MB_UPSTREAM', required('MB_UPSTREAM'));
const readKey = required('MB_READ_KEY');
const unstract = process.env.UNSTRACT_UPSTREAM ? upstreamUrl('UNSTRACT_UPSTREAM', process.env.UNSTRACT_UPSTREAM) : null;
const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? '127.0.0.1';

function sendJson(outgoing, status, body) {
  const text = JSON.stringify(body);
  outgoing.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  outgoing.end(text);
}

function forward(incoming, outgoing, target, toMeterboard) {
  const headers = { ...incoming.headers, host: target.host };
  for (const name of HOP_BY_HOP) delete headers[name];
  if (toMeterboard) {
    delete headers.cookie;
    headers.authorization = `Bearer ${readKey}`;
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(
    { protocol: target.protocol, hostname: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers },
    (answer) => {
      if (toMeterboard && (answer.statusCode === 401 || answer.statusCode === 403)) {
        answer.resume();
        sendJson(outgoing, 502, { message: `meterboard refused the proxy's read key (${answer.statusCode}); check MB_READ_KEY and the organization in the path` });
        return;
      }
      const passed = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete passed[name];
      outgoing.writeHead(answer.statusCode ?? 502, passed);
      answer.pipe(outgoing);
    },
  );
  upstream.on('error', (error) => {
    if (!outgoing.headersSent) sendJson(outgoing, 502, { message: `upstream unreachable: ${error.code ?? error.message}` });
    else outgoing.destroy();
  });
  incoming.pipe(upstream);
}

const server = createServer((incoming, outgoing) => {
  const path = incoming.url ?? '/';
  if (METRICS_PATH.test(path)) return forward(incoming, outgoing, meterboard, true);
  if (unstract !== null) return forward(incoming, outgoing, unstract, false);
  return sendJson(outgoing, 404, { message: 'not found (no UNSTRACT_UPSTREAM configured)' });
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`listening on http://${host}:${typeof address === 'object' && address ? address.port : port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
