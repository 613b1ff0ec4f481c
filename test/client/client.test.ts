import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Meterboard } from '../../src/client/index.ts';
import type { DropReport } from '../../src/client/index.ts';
import { startLiveApp, summaryOf } from '../support/live-app.ts';
import type { LiveApp } from '../support/live-app.ts';

/** The client against the real app on a socket, and against small real HTTP servers that misbehave on purpose. */

let app: LiveApp;

beforeAll(async () => {
  app = await startLiveApp();
}, 60_000);

afterAll(async () => {
  await app?.dispose();
});

/** fetch that counts the requests it makes (the test's own count, not the client's). */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: (input, init) => {
      calls += 1;
      return fetch(input, init);
    },
    calls: () => calls,
  };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('Meterboard client against the real server', () => {
  test('batches by size and by interval; typed builders arrive as the metrics the test sent', async () => {
    const keys = await app.createOrgWithKeys('client-batching');
    const counter = countingFetch();
    const client = new Meterboard({ url: app.url, apiKey: keys.ingest, batchSize: 500, flushIntervalMs: 60_000, fetch: counter.fetch });
    const base = Date.now() - 3_600_000;
    let tokens = 0;
    for (let i = 0; i < 1_250; i += 1) {
      const input = 10 + (i % 97);
      tokens += input + 5;
      client.llmCall({ model: 'gpt-4o-mini', provider: 'openai', usage_type: 'llm', input_tokens: input, output_tokens: 5, timestamp: new Date(base + i * 1000) });
    }
    // two full batches leave on their own; the last 250 wait for the interval or a flush
    await until(() => client.stats().sent === 1_000);
    expect(counter.calls()).toBe(2);
    expect(client.stats().queued).toBe(250);
    await client.flush();
    expect(counter.calls()).toBe(3);
    client.pageUsage({ pages: 7, failed_pages: 2, timestamp: new Date(base) });
    client.gauge({ name: 'total_users', value: 42, timestamp: new Date(base) });
    await client.close();
    expect(counter.calls()).toBe(4);
    expect(await app.countEvents('client-batching')).toBe(1_252);

    await app.aggregate();
    const summary = await summaryOf(app, 'client-batching', keys.read, ['llm_calls', 'llm.tokens', 'pages_processed', 'failed_pages'], new Date(base - 3_600_000), new Date());
    expect(summary.get('llm_calls')?.total_value).toBe(1_250);
    expect(summary.get('llm.tokens')?.total_value).toBe(tokens);
    expect(summary.get('pages_processed')?.total_value).toBe(7);
    expect(summary.get('failed_pages')?.total_value).toBe(2);

    const timed = new Meterboard({ url: app.url, apiKey: keys.ingest, batchSize: 500, flushIntervalMs: 100, fetch: counter.fetch });
    timed.trace({ trace_id: 't-1', operation_type: 'rag.query', duration_ms: 1200 });
    timed.trace({ trace_id: 't-2', operation_type: 'rag.query', duration_ms: 800 });
    await until(async () => (await app.countEvents('client-batching')) === 1_254);
    expect(counter.calls()).toBe(5);
    await timed.close();
  }, 60_000);

  test('a program that tracks events and simply ends sends them before it exits (beforeExit)', async () => {
    const keys = await app.createOrgWithKeys('client-exit');
    const client = path.resolve(import.meta.dirname, '../../src/client/index.ts');
    const program = [
      `const { Meterboard } = await import(${JSON.stringify(client)});`,
      `const meterboard = new Meterboard({ url: ${JSON.stringify(app.url)}, apiKey: ${JSON.stringify(keys.ingest)}, flushIntervalMs: 60_000 });`,
      "for (let i = 0; i < 42; i += 1) meterboard.documentEvent({ document_id: `d-${i}`, event_type: 'parsed', duration_ms: i });",
      // no flush, no close: the program's work is done and the event loop empties
    ].join('\n');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: path.resolve(import.meta.dirname, '../..') });
    expect(await app.countEvents('client-exit')).toBe(42);
  }, 60_000);

  test('a server restart in the middle: nothing lost, nothing doubled', async () => {
    const keys = await app.createOrgWithKeys('client-restart');
    const drops: DropReport[] = [];
    const client = new Meterboard({
      url: app.url,
      apiKey: keys.ingest,
      batchSize: 40,
      flushIntervalMs: 20,
      retry: { baseDelayMs: 20, maxDelayMs: 300, maxAttempts: 200 },
      onDrop: (report) => drops.push(report),
    });
    const total = 1_500;
    const base = Date.now() - 7_200_000;
    let sent = 0;
    const produce = async (count: number) => {
      for (let i = 0; i < count; i += 1, sent += 1) {
        client.apiRequest({ endpoint: '/v1/chat', method: 'POST', status_code: sent % 10 === 0 ? 500 : 200, latency_ms: sent % 100, timestamp: new Date(base + sent * 1000) });
        if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await produce(500);
    await app.stop();
    await produce(500); // queued while the server is down
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(client.stats().retries).toBeGreaterThan(0);
    await app.start();
    await produce(total - 1_000);
    await client.close();

    expect(drops).toEqual([]);
    expect(client.stats().sent).toBe(total);
    expect(await app.countEvents('client-restart')).toBe(total);
    await app.aggregate();
    const summary = await summaryOf(app, 'client-restart', keys.read, ['requests', 'request_errors'], new Date(base - 3_600_000), new Date());
    expect(summary.get('requests')?.total_value).toBe(total);
    expect(summary.get('request_errors')?.total_value).toBe(total / 10);
  }, 60_000);
});

interface Arrival {
  at: number;
  body: string;
}

/** A real HTTP server answering from a script of statuses, then 200 with an ingest answer. */
async function scriptedServer(script: { status: number; retryAfter?: string }[]): Promise<{ url: string; arrivals: Arrival[]; server: Server }> {
  const arrivals: Arrival[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      arrivals.push({ at: Date.now(), body });
      const step = script[arrivals.length - 1];
      if (step) {
        response.writeHead(step.status, { 'content-type': 'application/json', ...(step.retryAfter ? { 'retry-after': step.retryAfter } : {}) });
        response.end(JSON.stringify({ error: { code: 'busy', message: 'try later' } }));
        return;
      }
      const count = (JSON.parse(body) as { events: unknown[] }).events.length;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ accepted: count, duplicates: 0, rejected: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, server };
}

describe('Meterboard client backoff', () => {
  test('429 and 503 are retried after the Retry-After the server asked for, with the same event ids', async () => {
    const { url, arrivals, server } = await scriptedServer([{ status: 429, retryAfter: '1' }, { status: 503, retryAfter: '0.3' }, { status: 503 }]);
    const client = new Meterboard({ url, apiKey: 'mb_ingest_test', flushIntervalMs: 60_000, retry: { baseDelayMs: 50, maxDelayMs: 100 } });
    client.chatMessage({ kb_id: 'kb-1', response_time_ms: 900 });
    client.chatMessage({ kb_id: 'kb-2', response_time_ms: 400 });
    await client.close();
    server.close();

    expect(arrivals).toHaveLength(4);
    expect(arrivals[1]!.at - arrivals[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(arrivals[2]!.at - arrivals[1]!.at).toBeGreaterThanOrEqual(300);
    // every retry carries the same events, ids included: the server can deduplicate
    for (const arrival of arrivals) expect(arrival.body).toBe(arrivals[0]!.body);
    const ids = (JSON.parse(arrivals[0]!.body) as { events: { id: string }[] }).events.map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
    expect(client.stats()).toMatchObject({ sent: 2, retries: 3, requests: 4 });
  });

  test('a server that stays down: the batch is reported after the last attempt; a full queue reports what it dropped', async () => {
    const { url, server } = await scriptedServer([]);
    server.close(); // nothing listens on that port any more: connection refused
    const drops: DropReport[] = [];
    const client = new Meterboard({ url, apiKey: 'mb_ingest_test', batchSize: 5, maxQueueSize: 10, flushIntervalMs: 60_000, retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 }, onDrop: (r) => drops.push(r) });
    for (let i = 0; i < 5; i += 1) client.gauge({ name: 'queue_depth', value: i }); // a full batch leaves at once
    for (let i = 0; i < 25; i += 1) client.gauge({ name: 'queue_depth', value: i });
    await client.close();
    const dropped = client.stats().dropped;
    expect(dropped.queue_full).toBe(15);
    expect(dropped.retries_exhausted).toBe(15);
    expect(drops.filter((d) => d.reason === 'queue_full').reduce((n, d) => n + d.count, 0)).toBe(15);
    expect(drops.find((d) => d.reason === 'retries_exhausted')?.message).toMatch(/3 attempts failed/);
  });

  test('401 is not retried: the batch is reported as refused', async () => {
    const { url, arrivals, server } = await scriptedServer([{ status: 401 }]);
    const drops: DropReport[] = [];
    const client = new Meterboard({ url, apiKey: 'mb_ingest_wrong', flushIntervalMs: 60_000, onDrop: (r) => drops.push(r) });
    client.hitlReview({ state: 'created' });
    await client.close();
    server.close();
    expect(arrivals).toHaveLength(1);
    expect(drops).toMatchObject([{ reason: 'refused', count: 1 }]);
  });
});
