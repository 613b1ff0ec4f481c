import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/config.ts';
import { createContext, createHttpServer } from '../../src/compose.ts';
import type { ContextHandle } from '../../src/compose.ts';
import type { StoredEvent } from '../../src/domain/event.ts';

/**
 * The real application (compose.ts wiring, embedded SQLite) on 127.0.0.1, which a test can stop
 * and start again on the same port and data directory — a restart as a user would see it — and
 * talk to over HTTP like any client.
 */
export interface LiveApp {
  url: string;
  port: number;
  adminKey: string;
  dataDir: string;
  running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops (if running) and removes the data directory. */
  dispose(): Promise<void>;
  /** JSON request with a bearer key; throws on a non-2xx answer. */
  call<T = unknown>(method: string, urlPath: string, key: string, body?: unknown): Promise<T>;
  createOrgWithKeys(orgId: string, timezone?: string): Promise<{ ingest: string; read: string }>;
  aggregate(): Promise<void>;
  countEvents(orgId: string): Promise<number>;
  /** Stored (non-superseded) events of an organization, read from the storage directly. */
  storedEvents(orgId: string, types?: string[]): Promise<StoredEvent[]>;
}

export async function startLiveApp(): Promise<LiveApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'meterboard-live-'));
  const adminKey = `test-admin-${Math.random().toString(36).slice(2)}-0123456789`;
  const config = loadConfig({ DATA_DIR: dataDir, ADMIN_KEY: adminKey, LOG_LEVEL: 'warn', HOST: '127.0.0.1', CONFIG_FILE: undefined }, dataDir);
  let handle: ContextHandle | null = null;
  let server: FastifyInstance | null = null;
  let port = 0;

  const live: LiveApp = {
    url: '',
    port: 0,
    adminKey,
    dataDir,
    running: false,
    async start() {
      handle = await createContext(config, { processMetrics: false });
      server = createHttpServer(handle.ctx, { logger: false, checkResponses: true });
      const address = await server.listen({ port, host: '127.0.0.1' });
      port = (server.server.address() as { port: number }).port;
      live.url = address;
      live.port = port;
      live.running = true;
    },
    async stop() {
      if (!live.running) return;
      live.running = false;
      await server?.close();
      await handle?.close();
    },
    async dispose() {
      await live.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async call<T>(method: string, urlPath: string, key: string, body?: unknown): Promise<T> {
      const response = await fetch(`${live.url}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async createOrgWithKeys(orgId: string, timezone = 'UTC') {
      await live.call('POST', '/api/v1/orgs', adminKey, { id: orgId, name: orgId, timezone });
      const ingest = await live.call<{ key: string }>('POST', `/api/v1/orgs/${orgId}/keys`, adminKey, { scope: 'ingest', name: 'test ingest' });
      const read = await live.call<{ key: string }>('POST', `/api/v1/orgs/${orgId}/keys`, adminKey, { scope: 'read', name: 'test read' });
      return { ingest: ingest.key, read: read.key };
    },
    async aggregate() {
      await live.call('POST', '/api/v1/admin/aggregate', adminKey);
    },
    async countEvents(orgId: string) {
      if (!handle) throw new Error('the app is not running');
      return handle.ctx.eventReader.countEvents(orgId);
    },
    async storedEvents(orgId: string, types?: string[]) {
      if (!handle) throw new Error('the app is not running');
      return handle.ctx.eventReader.scanEvents({ orgId, from: 0, to: Date.now() + 86_400_000, ...(types ? { types } : {}) });
    },
  };
  await live.start();
  return live;
}

export interface SummaryRow {
  metric_name: string;
  total_value: number;
  total_count: number;
  min_value: number | null;
  max_value: number | null;
  p50_value?: number | null;
}

/** GET summary for the given metrics over [start, end), keyed by metric name. */
export async function summaryOf(app: LiveApp, orgId: string, readKey: string, metrics: string[], start: Date, end: Date): Promise<Map<string, SummaryRow>> {
  const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString(), metric: metrics.join(',') });
  const body = await app.call<{ summary: SummaryRow[] }>('GET', `/api/v1/orgs/${orgId}/summary?${query}`, readKey);
  return new Map(body.summary.map((row) => [row.metric_name, row]));
}

/** GET breakdown of one metric by a dimension: value → total_value. */
export async function breakdownOf(app: LiveApp, orgId: string, readKey: string, metric: string, dimension: string, start: Date, end: Date): Promise<Map<string, number>> {
  const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString(), metric, dimension, limit: '100' });
  const body = await app.call<{ items: { value: string; total_value: number }[] }>('GET', `/api/v1/orgs/${orgId}/breakdown?${query}`, readKey);
  return new Map(body.items.map((item) => [String(item.value), item.total_value]));
}
