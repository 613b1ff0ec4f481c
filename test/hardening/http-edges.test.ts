import { request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerQueryRoutes } from '../../src/http/query.routes.ts';
import { uniqueId } from '../factories/index.ts';
import { bearer, createHttpTestContext, createOrgWithKeys } from '../support/http-context.ts';
import type { HttpTestContext } from '../support/http-context.ts';

/**
 * Finding 8 of issue 13, through a real socket: a body over the limit answers a readable 413
 * to `Expect: 100-continue` clients (curl) and to Node's fetch sending 7 MB; every status
 * fastify itself produces has the one error shape; compare with an impossible date is a 400;
 * security headers are set and the cache state is not revealed.
 */

describe('HTTP edges through a real socket', () => {
  let t: HttpTestContext;
  let base: string;
  let port: number;
  let keys: { ingest: string; read: string; admin: string };
  let orgId: string;

  beforeAll(async () => {
    t = await createHttpTestContext('sqlite', { server: { routes: [registerQueryRoutes] } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    orgId = uniqueId('edges');
    keys = await createOrgWithKeys(t.app, { id: orgId });
  });
  afterAll(() => t.close());

  it('answers 413 before 100 Continue when Expect: 100-continue announces a body over the limit', async () => {
    const outcome = await new Promise<{ status: number; body: string; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = request({
        host: '127.0.0.1', port, method: 'POST', path: '/api/v1/events',
        headers: { ...bearer(keys.ingest), 'content-type': 'application/json', 'content-length': String(6 * 1024 * 1024), expect: '100-continue' },
      });
      req.on('continue', () => {
        continued = true;
        req.destroy(new Error('server sent 100 Continue for a body over the limit'));
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, continued }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(outcome.continued).toBe(false);
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('still sends 100 Continue for a body within the limit', async () => {
    const body = JSON.stringify([{ type: 'page_usage', timestamp: new Date(Date.UTC(2030, 0, 20, 11)).toISOString(), pages: 1 }]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port, method: 'POST', path: '/api/v1/events',
        headers: { ...bearer(keys.ingest), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
      });
      req.on('continue', () => req.end(body));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    expect(status).toBe(200);
  });

  it("gives Node's fetch sending 7 MB a readable 413 instead of a broken pipe", async () => {
    const response = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { ...bearer(keys.ingest), 'content-type': 'application/json' },
      body: `[${'"x",'.repeat(7 * 1024 * 1024 / 4)}"x"]`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('reads a 7 MiB body written in paced chunks to its end, then answers 413 on an unbroken connection', async () => {
    // What a client that writes its whole body before reading sees (Node's fetch, the SDK): a
    // server closing as soon as the limit is crossed breaks its writes (EPIPE / ECONNRESET) and
    // the 413 is lost with the connection. Paced writes make that deterministic on loopback.
    const total = 7 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const outcome = await new Promise<{ written: number; response: string; error: string | null }>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      let written = 0;
      let response = '';
      let error: string | null = null;
      socket.setEncoding('utf8');
      socket.on('data', (data: string) => (response += data));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.on('close', () => resolve({ written, response, error }));
      socket.write(`POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${keys.ingest}\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
      const writeNext = () => {
        if (socket.destroyed || error !== null) return;
        if (written >= total) return;
        const piece = chunk.subarray(0, Math.min(chunk.length, total - written));
        socket.write(piece, (e) => {
          if (e) return;
          written += piece.length;
          setTimeout(writeNext, 5);
        });
      };
      writeNext();
    });
    expect(outcome.error).toBeNull();
    expect(outcome.written).toBe(total);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(outcome.response.slice(outcome.response.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('answers a parameter over the length limit with 414 in the standard error shape', async () => {
    const response = await fetch(`${base}/api/v1/orgs/${'o'.repeat(300)}/summary`, { headers: bearer(keys.read) });
    expect(response.status).toBe(414);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body).toEqual({ error: { code: 'uri_too_long', message: expect.any(String) } });
  });

  it('answers unknown routes and malformed URLs in the standard error shape', async () => {
    const notFound = await fetch(`${base}/api/v1/nope`, { method: 'PUT' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { code: 'not_found' } });
    const badUrl = await fetch(`${base}/api/v1/orgs/%E0%A4%A/summary`, { headers: bearer(keys.read) });
    expect(badUrl.status).toBe(400);
    expect(await badUrl.json()).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('answers compare with an impossible date with 400, not 500', async () => {
    for (const date of ['0000-01-01', '1969-12-31', '0001-02-03']) {
      const response = await fetch(`${base}/api/v1/orgs/${orgId}/compare?date=${date}`, { headers: bearer(keys.read) });
      expect(response.status, date).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'validation' } });
    }
  });

  it('sets security headers and does not reveal the cache state', async () => {
    const response = await fetch(`${base}/api/v1/orgs/${orgId}/metrics`, { headers: bearer(keys.read) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(response.headers.get('x-cache')).toBeNull();
  });
});
