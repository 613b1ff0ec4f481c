import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { withRelaxedCommit } from '../../src/adapters/sqlite/relaxed-commit.ts';
import { createSqliteStorage, type SqliteStorage } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { UnavailableError } from '../../src/domain/errors.ts';
import { makeEvent, makeFileExecution, makeOrg, makeRollupRow } from '../factories/index.ts';
import { describeHourFoldsContract } from './hour-folds.contract.ts';
import { describeStorageContract } from './storage.contract.ts';
import { totalsBackfillCase } from './totals-backfill.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';

/** Every numbered migration file of the engine, in order: a fresh database gets each exactly once. */
const MIGRATION_NAMES = readdirSync(new URL('../../src/migrations/sqlite/', import.meta.url))
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => file.replace(/\.sql$/, ''));

const dataDir = mkdtempSync(join(tmpdir(), 'meterboard-sqlite-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function openStorage(dir: string): Promise<SqliteStorage> {
  const storage = createSqliteStorage({ dataDir: dir });
  await storage.migrate();
  return storage;
}

describeStorageContract('sqlite', () => openStorage(join(dataDir, 'contract')));
describeHourFoldsContract('sqlite', () => openStorage(join(dataDir, 'hour-folds')));

describe('SQLite storage specifics', () => {
  const hourOf = (ts: number) => Math.floor(ts / 3_600_000) * 3_600_000;
  /** A database of its own with one organization, and an instant to put its events at. */
  async function storageWithOrg(name: string) {
    const dir = join(dataDir, name);
    const storage = await openStorage(dir);
    const org = makeOrg();
    await storage.createOrg(org, 1);
    return { dir, storage, org, ts: Date.UTC(2030, 0, 1) };
  }

  it('applies the numbered migrations once and records them', async () => {
    const dir = join(dataDir, 'migrations');
    const storage = createSqliteStorage({ dataDir: dir });
    expect(await storage.migrate()).toEqual(MIGRATION_NAMES);
    expect(await storage.migrate()).toEqual([]);
    await storage.close();
    const reopened = createSqliteStorage({ dataDir: dir });
    expect(await reopened.migrate()).toEqual([]);
    await reopened.close();
  });

  it('migration 063 fills bucket totals from the packs already stored, old packs without a merged entry included (ADR 0024)', async () => {
    const { dir, storage, org, ts } = await storageWithOrg('totals-backfill');
    const hour = hourOf(ts);
    const { written, oldPack, expected } = totalsBackfillCase(org.id, hour);
    await storage.replaceBuckets(org.id, 'hour', [hour, hour + 3_600_000], written);
    // The database as it was before migration 063, plus a pack written before ADR 0013.
    const raw = new Database(join(dir, 'meterboard.db'));
    raw.prepare('INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(org.id, 'hour', oldPack.bucketStart, oldPack.metric, oldPack.dimName, oldPack.valueCount, oldPack.packed);
    raw.exec("DROP TABLE rollup_totals; DELETE FROM schema_migrations WHERE name = '063_rollup_totals'");
    raw.close();
    expect(await storage.migrate()).toEqual(['063_rollup_totals']);
    const read = await storage.readRollups({ orgId: org.id, granularity: 'hour', from: hour, to: hour + 7_200_000, dimName: '', mergeScopes: true });
    const unscoped = (rows: readonly RollupRow[]) => rows.map((r) => ({ ...r, project: '', tag: '', sketch: r.sketch === null ? null : [...r.sketch] }));
    expect(unscoped(read)).toEqual(unscoped(expected));
    await storage.close();
  });

  it('keeps stored events, their superseded state and idempotency across close and reopen', async () => {
    const dir = join(dataDir, 'reopen');
    const org = makeOrg();
    const batch = [makeEvent(), makeEvent({ type: 'page_usage' })];
    const error = makeFileExecution('exec-r', 'a.pdf', 'ERROR', batch[0]!.ts - 60_000);
    const done = makeFileExecution('exec-r', 'a.pdf', 'COMPLETED', batch[0]!.ts);

    const first = await openStorage(dir);
    await first.createOrg(org, 1);
    expect((await first.insertEvents(org.id, [...batch, error, done], hourOf, 2)).inserted).toEqual([true, true, true, true]);
    await first.close();

    const second = await openStorage(dir);
    expect(await second.insertEvents(org.id, [...batch, error], hourOf, 3)).toEqual({ inserted: [false, false, false], dirtyHours: [] });
    const visible = await second.scanEvents({ orgId: org.id, from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(visible.map((e) => e.id).sort()).toEqual([...batch.map((e) => e.id), done.id].sort());
    expect(await second.getOrg(org.id)).toMatchObject({ id: org.id });
    await second.close();
  });

  it('lets a second process-like connection read and write while the first is open (WAL)', async () => {
    const dir = join(dataDir, 'shared');
    const server = await openStorage(dir);
    const cli = await openStorage(dir);
    const org = makeOrg();
    await cli.createOrg(org, 1);
    await server.insertEvents(org.id, [makeEvent()], hourOf, 2);
    expect(await cli.countEvents(org.id)).toBe(1);
    expect((await server.getOrg(org.id))?.id).toBe(org.id);

    const raw = new Database(join(dir, 'meterboard.db'), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    await cli.close();
    await server.close();
  });

  it('waits for another process holding the write lock instead of failing (busy timeout)', async () => {
    const dir = join(dataDir, 'locked');
    const storage = await openStorage(dir);
    const org = makeOrg();
    await storage.createOrg(org, 1);
    // A separate process takes the write lock, says so, and keeps it for a moment.
    const holder = spawn(process.execPath, [
      '-e',
      `const db = new (require('better-sqlite3'))(process.argv[1]);
       db.exec('BEGIN IMMEDIATE'); console.log('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
       db.exec('COMMIT'); db.close();`,
      join(dir, 'meterboard.db'),
    ], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await once(holder.stdout, 'data');
    const result = await storage.insertEvents(org.id, [makeEvent()], hourOf, 2);
    expect(result.inserted).toEqual([true]);
    const [code] = await once(holder, 'exit');
    expect(code).toBe(0);
    await storage.close();
  });

  it('reports a write lock held past the busy timeout, and a closed database, as UnavailableError', async () => {
    const dir = join(dataDir, 'busy');
    await (await openStorage(dir)).close();
    const storage = createSqliteStorage({ dataDir: dir, busyTimeoutMs: 50 });
    const org = makeOrg();
    await storage.createOrg(org, 1);
    const holder = spawn(process.execPath, [
      '-e',
      `const db = new (require('better-sqlite3'))(process.argv[1]);
       db.exec('BEGIN IMMEDIATE'); console.log('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
       db.exec('COMMIT'); db.close();`,
      join(dir, 'meterboard.db'),
    ], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await once(holder.stdout, 'data');
    const busy = await storage.insertEvents(org.id, [makeEvent()], hourOf, 2).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(UnavailableError);
    expect(((busy as UnavailableError).cause as { code?: string }).code).toBe('SQLITE_BUSY');
    await once(holder, 'exit');
    expect((await storage.insertEvents(org.id, [makeEvent()], hourOf, 3)).inserted).toEqual([true]);

    await storage.close();
    await expect(storage.getOrg(org.id)).rejects.toBeInstanceOf(UnavailableError);
    await expect(storage.ping()).rejects.toBeInstanceOf(UnavailableError);
  });

  it('forEachEvent visits equal timestamps in storage order, whatever their ids (ADR 0010)', async () => {
    const storage = await openStorage(join(dataDir, 'ties'));
    const org = makeOrg();
    await storage.createOrg(org, 1);
    const ts = Date.UTC(2030, 0, 1);
    // Ids in descending order: scanEvents' (ts, id) order is the reverse of insertion order.
    // The first run of equal timestamps spans three chunks of 4,096 rows, the second straddles one's end.
    const events = Array.from({ length: 13_000 }, (_, i) =>
      makeEvent({ id: `evt-${String(99_999 - i).padStart(5, '0')}`, ts: ts + (i < 10_000 ? 0 : 1), attrs: { seq: i } }),
    );
    await storage.insertEvents(org.id, events, hourOf, 2);
    const visited: unknown[] = [];
    expect(await storage.forEachEvent({ orgId: org.id, from: ts, to: ts + 2 }, (event) => visited.push(event.attrs['seq']))).toBe(13_000);
    expect(visited).toEqual(events.map((_, i) => i));
    await storage.close();
  });

  it('a run of equal timestamps across generations and chunks is read whole and in storage order, new events alone after a watermark (ADR 0020)', async () => {
    const { dir, storage, org, ts } = await storageWithOrg('ties-generations');
    // Events stored before migration 060 have no generation: written here by hand, as that schema did.
    const writer = new Database(join(dir, 'meterboard.db'));
    const insertLegacy = writer.prepare(
      "INSERT INTO events (org_id, id, type, ts, project, tag, attrs, received_at) VALUES (?, ?, 'llm_call', ?, 'default', '', ?, 3)",
    );
    let seq = 0;
    writer.transaction(() => {
      for (let i = 0; i < 5_000; i++, seq++) insertLegacy.run(org.id, `legacy-${seq}`, ts, JSON.stringify({ seq }));
    })();
    writer.close();
    // Three generations of the same instant, each cut by a chunk of 4,096 rows somewhere, then a later instant.
    const batch = (n: number, at: number) => Array.from({ length: n }, () => makeEvent({ id: `evt-${seq}`, ts: at, attrs: { seq: seq++ } }));
    const watermarks: string[] = [];
    for (const [n, at] of [[3_000, ts], [6_000, ts], [1, ts], [2_000, ts + 1]] as const) {
      await storage.insertEvents(org.id, batch(n, at), hourOf, 2);
      watermarks.push((await storage.forEachNewEvent(org.id, [], () => {})).watermark);
    }
    const all: unknown[] = [];
    expect(await storage.forEachEvent({ orgId: org.id, from: ts, to: ts + 2 }, (event) => all.push(event.attrs['seq']))).toBe(seq);
    expect(all).toEqual(Array.from({ length: seq }, (_, i) => i));
    // After the first generation's watermark: the 6,000 + 1 + 2,000 events stored later, in order.
    const fresh: unknown[] = [];
    const read = await storage.forEachNewEvent(org.id, [{ from: ts, to: ts + 2, after: watermarks[0]! }], (event) => fresh.push(event.attrs['seq']));
    expect(read.events).toBe(8_001);
    expect(fresh).toEqual(Array.from({ length: 8_001 }, (_, i) => 8_000 + i));
    await storage.close();
  });

  it('forEachEvent reads one snapshot: rows another connection commits during the scan are not visited', async () => {
    const { dir, storage, org, ts } = await storageWithOrg('snapshot');
    await storage.insertEvents(org.id, Array.from({ length: 10_000 }, (_, i) => makeEvent({ ts: ts + i })), hourOf, 2);
    const writer = new Database(join(dir, 'meterboard.db'));
    const insert = writer.prepare(
      "INSERT INTO events (org_id, id, type, ts, project, tag, attrs, received_at) VALUES (?, ?, 'llm_call', ?, 'default', '', '{}', 3)",
    );
    let visited = 0;
    const count = await storage.forEachEvent({ orgId: org.id, from: ts, to: ts + 20_000 }, () => {
      // Committed after the scan's first rows were read, later than every one of them.
      if (++visited === 1) for (let i = 0; i < 10; i++) insert.run(org.id, `late-${i}`, ts + 15_000 + i);
    });
    expect(count).toBe(10_000);
    expect(await storage.forEachEvent({ orgId: org.id, from: ts, to: ts + 20_000 }, () => {})).toBe(10_010);
    writer.close();
    await storage.close();
  });

  it('a steady write reads a pack again when another connection committed after the by-key read (ADR 0015)', async () => {
    const dir = join(dataDir, 'reuse-after-commit');
    const storage = await openStorage(dir);
    const other = await openStorage(dir);
    const org = makeOrg();
    await storage.createOrg(org, 1);
    const B0 = Date.UTC(2030, 0, 1);
    const user = (dimValue: string, count: number) =>
      makeRollupRow({ orgId: org.id, granularity: 'day', bucketStart: B0, metric: 'llm_calls', dimName: 'user', dimValue, count, sum: count });
    await storage.replaceBuckets(org.id, 'day', [B0], [user('a', 1), user('b', 2)]);
    expect((await storage.readRollupsByKey(org.id, [user('a', 0)])).map((r) => r.count)).toEqual([1]);
    // Nothing on this connection changed since its read; another one rewrote the pack.
    await other.replaceBuckets(org.id, 'day', [B0], [user('a', 1), user('b', 5), user('c', 7)]);
    await storage.writeRollupRows(org.id, [user('a', 3)], []);
    const day = await storage.readRollups({ orgId: org.id, granularity: 'day', from: B0, to: B0 + 1 });
    expect(day.map((r) => [r.dimValue, r.count])).toEqual([['a', 3], ['b', 5], ['c', 7]]);
    await other.close();
    await storage.close();
  });

  it('commits rollup writes without an fsync of their own and everything else at FULL (ADR 0011)', async () => {
    const storage = await openStorage(join(dataDir, 'relaxed-commit'));
    const org = makeOrg();
    await storage.createOrg(org, 1);
    const B0 = Date.UTC(2030, 0, 1);
    const pragmas = vi.spyOn(Database.prototype, 'pragma');
    const levelChanges = () => pragmas.mock.calls.map(([source]) => source).filter((source) => source.includes('='));
    try {
      await storage.insertEvents(org.id, [makeEvent({ ts: B0 })], hourOf, 2);
      await storage.clearDirty(await storage.listDirty(org.id, 10));
      expect(levelChanges()).toEqual([]);
      const row = makeRollupRow({ orgId: org.id, granularity: 'hour', bucketStart: B0, count: 2, sum: 2 });
      await storage.replaceBuckets(org.id, 'hour', [B0], [row]);
      expect(levelChanges()).toEqual(['synchronous = NORMAL', 'synchronous = 2']);
      await storage.writeRollupRows(org.id, [{ ...row, count: 3, sum: 3 }], []);
      expect(levelChanges()).toEqual(['synchronous = NORMAL', 'synchronous = 2', 'synchronous = NORMAL', 'synchronous = 2']);
    } finally {
      pragmas.mockRestore();
    }
    expect((await storage.readRollups({ orgId: org.id, granularity: 'hour', from: B0, to: B0 + 3_600_000 }))[0]?.count).toBe(3);
    await storage.close();
  });

  it('restores the connection\'s level after a rollup write that throws', () => {
    const db = new Database(':memory:');
    db.pragma('synchronous = FULL');
    let inside: unknown;
    expect(() =>
      withRelaxedCommit(db, () => {
        inside = db.pragma('synchronous', { simple: true });
        throw new Error('write failed');
      }),
    ).toThrow('write failed');
    expect(inside).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  it('stores 10,000 events in one call and reports each position', async () => {
    const storage = await openStorage(join(dataDir, 'bulk'));
    const org = makeOrg();
    await storage.createOrg(org, 1);
    const events = Array.from({ length: 10_000 }, (_, i) => makeEvent({ ts: Date.UTC(2030, 0, 1) + i * 60_000 }));
    const result = await storage.insertEvents(org.id, events, hourOf, 2);
    expect(result.inserted.filter(Boolean)).toHaveLength(10_000);
    expect(result.dirtyHours).toHaveLength(Math.ceil(10_000 / 60));
    expect(await storage.countEvents(org.id)).toBe(10_000);
    await storage.close();
  });
});
