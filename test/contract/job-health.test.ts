import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../../src/adapters/sqlite/sqlite-storage.ts';
import type { Storage } from '../../src/ports/storage.ts';
import { postgresTestSchemas } from '../support/postgres.ts';

/** The JobHealthStore port (issue 12), one contract on both engines. */

const dir = mkdtempSync(join(tmpdir(), 'meterboard-jobhealth-contract-'));
const schemas = postgresTestSchemas('jobhealth_contract');
const opened: Storage[] = [];
afterAll(async () => {
  for (const storage of opened) await storage.close();
  await schemas.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const ENGINES: Array<[string, () => Storage]> = [
  ['sqlite', () => createSqliteStorage({ dataDir: dir })],
  ['postgres', () => schemas.openStorage(schemas.newSchema())],
];

describe.each(ENGINES)('job health store on %s', (_engine, open) => {
  it('keeps the latest success and failure, whatever order runs finish in', async () => {
    const storage = open();
    opened.push(storage);
    await storage.migrate();
    expect(await storage.readJobHealth()).toEqual([]);
    await storage.recordJobRun({ job: 'aggregate', ok: true, finishedAt: 2_000, durationMs: 12.5, records: 40 });
    await storage.recordJobRun({ job: 'aggregate', ok: true, finishedAt: 1_000, durationMs: 3, records: 0 });
    await storage.recordJobRun({ job: 'aggregate', ok: false, finishedAt: 3_000, durationMs: 7, records: 5 });
    await storage.recordJobRun({ job: 'cleanup', ok: true, finishedAt: 500, durationMs: 1, records: 0 });
    expect(await storage.readJobHealth()).toEqual([
      { job: 'aggregate', lastSuccessAt: 2_000, lastFailureAt: 3_000, lastDurationMs: 7, lastRecords: 5 },
      { job: 'cleanup', lastSuccessAt: 500, lastFailureAt: null, lastDurationMs: 1, lastRecords: 0 },
    ]);
  });

  it("lists every organization's data version in one read", async () => {
    const storage = opened.at(-1)!;
    await storage.createOrg({ id: 'dv-a', name: 'A', timezone: 'UTC' }, 1);
    await storage.createOrg({ id: 'dv-b', name: 'B', timezone: 'UTC' }, 1);
    await storage.bumpDataVersion('dv-b');
    await storage.bumpDataVersion('dv-b');
    const versions = await storage.listDataVersions();
    expect(versions.get('dv-a')).toBe(await storage.getDataVersion('dv-a'));
    expect(versions.get('dv-b')).toBe(await storage.getDataVersion('dv-b'));
    expect(versions.get('dv-b')! - versions.get('dv-a')!).toBe(2);
  });

  it("reads every organization's oldest dirty hour in one read, and forgets an organization once its marks are cleared", async () => {
    const storage = opened.at(-1)!;
    const H = 3_600_000;
    const base = Date.UTC(2026, 10, 20);
    expect(await storage.oldestDirtyHours()).toEqual(new Map());
    await storage.markDirty('dv-a', [base + 5 * H, base + 2 * H, base + 9 * H]);
    await storage.markDirty('dv-b', [base + 7 * H]);
    await storage.markDirty('dv-a', [base + 3 * H]);
    expect(await storage.oldestDirtyHours()).toEqual(new Map([['dv-a', base + 2 * H], ['dv-b', base + 7 * H]]));
    await storage.clearDirty(await storage.listDirty('dv-b', 10));
    await storage.clearDirty(await storage.listDirty('dv-a', 1));
    expect(await storage.oldestDirtyHours()).toEqual(new Map([['dv-a', base + 3 * H]]));
  });
});
