import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Meterboard } from '../../src/client/index.ts';
import { meterboardRequestLog as expressRequestLog } from '../../src/client/express.ts';
import { meterboardRequestLog as fastifyRequestLog } from '../../src/client/fastify.ts';
import { breakdownOf, startLiveApp, summaryOf } from '../support/live-app.ts';
import type { LiveApp } from '../support/live-app.ts';

/**
 * The request-logging middleware in a small Fastify app and a small Express app, both on real
 * sockets, recording into the real meterboard app. The oracle is the list of requests the test
 * made, with the status it expects and the round trip it measured.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Planned {
  method: 'GET' | 'POST';
  path: string;
  pattern: string;
  status: number;
  model?: string;
  user?: string;
  delayMs: number;
  ip?: string;
}

/** The same traffic for both frameworks: ids in the URL, a slow route, errors, a miss. */
const PLAN: Planned[] = [
  ...Array.from({ length: 6 }, (_, i): Planned => ({ method: 'GET', path: `/users/${100 + i}?expand=true`, pattern: '/users/:id', status: 200, user: `u${i % 2}`, delayMs: 0 })),
  ...Array.from({ length: 4 }, (_, i): Planned => ({ method: 'POST', path: '/v1/chat/completions', pattern: '/v1/chat/completions', status: 201, model: i % 2 ? 'gpt-4o' : 'claude-3-5-haiku', delayMs: 0, ip: '8.8.8.8' })),
  { method: 'GET', path: '/slow', pattern: '/slow', status: 200, delayMs: 150 },
  { method: 'GET', path: '/users/7/fail', pattern: '/users/:id/fail', status: 500, delayMs: 0 },
  { method: 'GET', path: '/users/8/fail', pattern: '/users/:id/fail', status: 500, delayMs: 0 },
  { method: 'GET', path: '/missing/route', pattern: '(unmatched)', status: 404, delayMs: 0 },
];

interface HostApp {
  url: string;
  close(): Promise<void>;
}

async function fastifyHost(client: Meterboard): Promise<HostApp> {
  const host = Fastify({ logger: false, trustProxy: true });
  await host.register(fastifyRequestLog, { client, getUserId: (request) => (request.headers['x-user'] as string | undefined) ?? null });
  host.get('/users/:id', async () => ({ ok: true }));
  host.get('/users/:id/fail', async (_request, reply) => reply.code(500).send({ error: 'boom' }));
  host.post('/v1/chat/completions', async (request, reply) => {
    const model = (request.body as { model?: string } | undefined)?.model;
    if (model) void reply.header('x-model', model);
    return reply.code(201).send({ ok: true });
  });
  host.get('/slow', async () => {
    await sleep(150);
    return { ok: true };
  });
  const url = await host.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => host.close() };
}

async function expressHost(client: Meterboard): Promise<HostApp> {
  const host = express();
  host.set('trust proxy', true);
  host.use(expressRequestLog({ client, getUserId: (request) => (request as express.Request).get('x-user') ?? null }));
  host.use(express.json());
  const users = express.Router();
  users.get('/:id', (_request, response) => void response.json({ ok: true }));
  users.get('/:id/fail', (_request, response) => void response.status(500).json({ error: 'boom' }));
  host.use('/users', users);
  host.post('/v1/chat/completions', (request, response) => {
    const model = (request.body as { model?: string } | undefined)?.model;
    if (model) response.locals['model'] = model; // Express: res.locals.model instead of a header
    response.status(201).json({ ok: true });
  });
  host.get('/slow', (_request, response) => void sleep(150).then(() => response.json({ ok: true })));
  const server = await new Promise<HttpServer>((resolve) => {
    const s = host.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function drive(host: HostApp): Promise<number[]> {
  const roundTrips: number[] = [];
  for (const planned of PLAN) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (planned.user) headers['x-user'] = planned.user;
    if (planned.ip) headers['x-forwarded-for'] = planned.ip;
    const started = performance.now();
    const response = await fetch(`${host.url}${planned.path}`, {
      method: planned.method,
      headers,
      body: planned.method === 'POST' ? JSON.stringify({ model: planned.model }) : undefined,
    });
    await response.text();
    roundTrips.push(performance.now() - started);
    expect(response.status, planned.path).toBe(planned.status);
  }
  return roundTrips;
}

let app: LiveApp;

beforeAll(async () => {
  app = await startLiveApp();
}, 60_000);

afterAll(async () => {
  await app?.dispose();
});

const HOSTS = [
  { name: 'Fastify', orgId: 'mw-fastify', start: fastifyHost },
  { name: 'Express', orgId: 'mw-express', start: expressHost },
] as const;

/** Requests per value of a dimension; events without it are counted under the breakdown's "(none)". */
const countBy = <K extends string>(key: (p: Planned) => K | undefined) => {
  const counts = new Map<string, number>();
  for (const p of PLAN) {
    const k = key(p);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
};

describe.each(HOSTS)('$name request-logging middleware', ({ orgId, start }) => {
  test('counts, status codes, route patterns, models, users, countries and latency equal what the test sent', async () => {
    const keys = await app.createOrgWithKeys(orgId);
    const client = new Meterboard({ url: app.url, apiKey: keys.ingest, flushIntervalMs: 60_000 });
    const host = await start(client);
    const startedAt = new Date(Date.now() - 60_000);
    const roundTrips = await drive(host);
    await host.close();
    await client.close();
    await app.aggregate();

    const end = new Date(Date.now() + 60_000);
    const summary = await summaryOf(app, orgId, keys.read, ['requests', 'request_errors', 'request_latency_ms'], startedAt, end);
    expect(summary.get('requests')?.total_value).toBe(PLAN.length);
    expect(summary.get('request_errors')?.total_value).toBe(PLAN.filter((p) => p.status >= 400).length);
    expect(Object.fromEntries(await breakdownOf(app, orgId, keys.read, 'requests', 'endpoint', startedAt, end))).toEqual(Object.fromEntries(countBy((p) => p.pattern)));
    expect(Object.fromEntries(await breakdownOf(app, orgId, keys.read, 'requests', 'status_code', startedAt, end))).toEqual(Object.fromEntries(countBy((p) => String(p.status))));
    expect(Object.fromEntries(await breakdownOf(app, orgId, keys.read, 'requests', 'model', startedAt, end))).toEqual(Object.fromEntries(countBy((p) => p.model ?? '(none)')));
    expect(Object.fromEntries(await breakdownOf(app, orgId, keys.read, 'requests', 'country', startedAt, end))).toEqual(Object.fromEntries(countBy((p) => (p.ip === '8.8.8.8' ? 'US' : '(none)'))));

    const stored = await app.storedEvents(orgId, ['api_request']);
    expect(stored).toHaveLength(PLAN.length);
    for (const user of ['u0', 'u1']) expect(stored.filter((e) => e.attrs['user_id'] === user), user).toHaveLength(PLAN.filter((p) => p.user === user).length);
    // Latency: at least the handler's own delay, at most the round trip the test measured around the request.
    const slow = stored.find((e) => e.attrs['endpoint'] === '/slow')!;
    const slowIndex = PLAN.findIndex((p) => p.path === '/slow');
    expect(slow.attrs['latency_ms']).toBeGreaterThanOrEqual(149);
    expect(slow.attrs['latency_ms']).toBeLessThanOrEqual(roundTrips[slowIndex]!);
    const totalLatency = stored.reduce((n, e) => n + Number(e.attrs['latency_ms']), 0);
    expect(totalLatency).toBeLessThanOrEqual(roundTrips.reduce((a, b) => a + b, 0));
    expect(summary.get('request_latency_ms')?.total_value).toBeCloseTo(totalLatency, 3);
  }, 60_000);

  test('the host app keeps answering at once while meterboard accepts connections but never answers', async () => {
    // A black hole: connections are accepted and then left hanging, the worst case for a blocking logger.
    const sockets: Socket[] = [];
    const blackHole: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const client = new Meterboard({ url: `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`, apiKey: 'mb_ingest_x', batchSize: 2, timeoutMs: 5_000, maxQueueSize: 5 });
    const host = await start(client);
    const roundTrips: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const started = performance.now();
      const response = await fetch(`${host.url}/users/${i}`);
      expect(response.status).toBe(200);
      await response.text();
      roundTrips.push(performance.now() - started);
    }
    // Had the middleware waited for meterboard, each request would hang for the client's 5 s timeout.
    expect(Math.max(...roundTrips)).toBeLessThan(2_000);
    expect(sockets.length).toBeGreaterThan(0);
    expect(client.stats().dropped.queue_full).toBeGreaterThan(0);
    await host.close();
    for (const socket of sockets) socket.destroy();
    blackHole.close();
  }, 30_000);
});
