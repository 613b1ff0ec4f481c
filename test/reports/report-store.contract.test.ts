import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { createPostgresReportStore } from '../../src/reports/adapters/postgres-report-store.ts';
import { createSqliteReportStore } from '../../src/reports/adapters/sqlite-report-store.ts';
import type { ReportStore } from '../../src/reports/ports.ts';
import type { Storage } from '../../src/ports/storage.ts';
import { postgresTestSchemas, probePostgres, TEST_DATABASE_URL } from '../support/postgres.ts';

/** One contract for the ReportStore port, run on both engines (migration 010 applied by the storage). */

interface Engine {
  name: string;
  open(): Promise<{ storage: Storage; stores: [ReportStore, ReportStore]; cleanup(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'meterboard-reportstore-'));
      const storage = createSqliteStorage({ dataDir: dir });
      await storage.migrate();
      const file = join(dir, 'meterboard.db');
      return { storage, stores: [createSqliteReportStore(file), createSqliteReportStore(file)], cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (await probePostgres()) {
  engines.push({
    name: 'postgres',
    async open() {
      const schemas = postgresTestSchemas('reportstore');
      const schema = schemas.newSchema();
      const storage = schemas.openStorage(schema);
      await storage.migrate();
      const open = () => createPostgresReportStore({ url: TEST_DATABASE_URL, schema });
      return { storage, stores: [open(), open()], cleanup: () => schemas.cleanup() };
    },
  });
}

describe.each(engines)('ReportStore contract ($name)', (engine) => {
  let env: Awaited<ReturnType<Engine['open']>>;
  let a: ReportStore;
  let b: ReportStore;
  beforeAll(async () => {
    env = await engine.open();
    [a, b] = env.stores;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await env.storage.close();
    await env.cleanup();
  });

  it('stores settings per organization', async () => {
    expect(await a.getSettings('o1')).toEqual({ orgId: 'o1', recipients: [], webhookUrl: null });
    await a.saveSettings({ orgId: 'o1', recipients: ['x@y.z'], webhookUrl: 'http://h/' }, 1);
    expect(await b.getSettings('o1')).toEqual({ orgId: 'o1', recipients: ['x@y.z'], webhookUrl: 'http://h/' });
    await b.saveSettings({ orgId: 'o1', recipients: [], webhookUrl: null }, 2);
    expect(await a.getSettings('o1')).toEqual({ orgId: 'o1', recipients: [], webhookUrl: null });
  });

  it('lets exactly one of many concurrent claims win, and never re-sends a delivered row', async () => {
    await a.ensureDelivery('o1', '2026-03-29', 'email', 100);
    await b.ensureDelivery('o1', '2026-03-29', 'email', 101);
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimDelivery('o1', '2026-03-29', 'email', `h${i}`, 200, 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = `h${claims.indexOf(true)}`;
    await a.markDelivered('o1', '2026-03-29', 'email', winner, 300);
    await b.ensureDelivery('o1', '2026-03-29', 'email', 400);
    expect(await b.claimDelivery('o1', '2026-03-29', 'email', 'late', 10_000_000, 60_000)).toBe(false);
    expect(await a.dueDeliveries(10_000_000, 10)).toEqual([]);
    const [row] = await b.listDeliveries('o1', 10);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: 300 });
  });

  it('keeps a failure with its error and next attempt, and takes back a row whose lease expired', async () => {
    await a.ensureDelivery('o2', '2026-10-25', 'webhook', 100);
    expect(await a.claimDelivery('o2', '2026-10-25', 'webhook', 'w1', 100, 1000)).toBe(true);
    await a.markFailed('o2', '2026-10-25', 'webhook', 'w1', 'connection refused', 5000, 200);
    expect(await b.claimDelivery('o2', '2026-10-25', 'webhook', 'w2', 4999, 1000)).toBe(false);
    expect((await b.dueDeliveries(5000, 10)).map((r) => [r.orgId, r.status, r.lastError])).toEqual([['o2', 'failed', 'connection refused']]);
    expect(await b.claimDelivery('o2', '2026-10-25', 'webhook', 'w2', 5000, 1000)).toBe(true);
    // w2 dies mid-send: after its lease, another worker may take the row.
    expect(await a.claimDelivery('o2', '2026-10-25', 'webhook', 'w3', 5999, 1000)).toBe(false);
    expect(await a.claimDelivery('o2', '2026-10-25', 'webhook', 'w3', 6001, 1000)).toBe(true);
    // A stale holder cannot overwrite the new holder's outcome.
    await b.markDelivered('o2', '2026-10-25', 'webhook', 'w2', 6002);
    expect((await a.listDeliveries('o2', 10))[0]).toMatchObject({ status: 'sending', attempts: 3 });
    await a.markDelivered('o2', '2026-10-25', 'webhook', 'w3', 6003);
    expect((await a.listDeliveries('o2', 10))[0]).toMatchObject({ status: 'delivered', deliveredAt: 6003 });
    expect(await a.countByStatus()).toMatchObject({ delivered: 2, failed: 0 });
  });

  it('archives the first snapshot of a date and finds the latest', async () => {
    await a.saveSnapshot({ orgId: 'o3', date: '2026-01-01', generatedAt: 1, json: '{"a":1}', html: '<p>1</p>' });
    await b.saveSnapshot({ orgId: 'o3', date: '2026-01-01', generatedAt: 2, json: '{"a":2}', html: '<p>2</p>' });
    await a.saveSnapshot({ orgId: 'o3', date: '2026-01-02', generatedAt: 3, json: '{"b":1}', html: '<p>3</p>' });
    expect((await b.getSnapshot('o3', '2026-01-01'))?.json).toBe('{"a":1}');
    expect((await b.latestSnapshot('o3'))?.date).toBe('2026-01-02');
    expect(await a.latestSnapshot('nobody')).toBeNull();
  });
});
