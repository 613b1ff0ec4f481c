import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { newEventsQuery } from '../../src/adapters/postgres/events-read.ts';
import { createPostgresStorage } from '../../src/adapters/postgres/postgres-storage.ts';
import type { Storage } from '../../src/ports/storage.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';
import { makeEvent, makeFileExecution, makeOrg, makeRollupRow, sortRollupRows } from '../factories/index.ts';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { postgresTestSchemas, TEST_DATABASE_URL } from '../support/postgres.ts';
import { describeHourFoldsContract } from './hour-folds.contract.ts';
import { describeStorageContract } from './storage.contract.ts';
import { totalsBackfillCase } from './totals-backfill.ts';

/** Every numbered migration file of the engine, in order: a fresh database gets each exactly once. */
const MIGRATION_NAMES = readdirSync(new URL('../../src/migrations/postgres/', import.meta.url))
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => file.replace(/\.sql$/, ''));

const available = POSTGRES_SELECTED;
const schemas = postgresTestSchemas('storage');
afterAll(() => schemas.cleanup());

describe.skipIf(!available)('PostgreSQL storage', () => {
  describeStorageContract('postgres', () => schemas.makeStorage());
  describeHourFoldsContract('postgres', () => schemas.makeStorage());

  describe('PostgreSQL specifics', () => {
    const H = 3_600_000;
    const DAY = 24 * H;
    const hourOf = (ts: number) => Math.floor(ts / H) * H;
    const comparable = (rows: readonly RollupRow[]) =>
      sortRollupRows(rows).map((r) => ({ ...r, sketch: r.sketch === null ? null : Array.from(r.sketch) }));
    const opened: Storage[] = [];
    afterAll(() => Promise.all(opened.splice(0).map((s) => s.close())));

    async function fresh(): Promise<{ storage: Storage; schema: string }> {
      const schema = schemas.newSchema();
      const storage = schemas.openStorage(schema);
      opened.push(storage);
      await storage.migrate();
      return { storage, schema };
    }
    function open(schema: string): Storage {
      const storage = schemas.openStorage(schema);
      opened.push(storage);
      return storage;
    }
    async function sql<T extends pg.QueryResultRow>(schema: string, text: string): Promise<T[]> {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        return (await client.query<T>(text)).rows;
      } finally {
        await client.end();
      }
    }
    const partitionNames = async (schema: string) =>
      (
        await sql<{ name: string }>(
          schema,
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'events'::regclass ORDER BY 1`,
        )
      ).map((r) => r.name);
    const rowsInDefault = async (schema: string) =>
      Number((await sql<{ n: string }>(schema, 'SELECT count(*) AS n FROM events_default'))[0]?.n);

    it('applies the numbered migrations once, also when two processes migrate at once', async () => {
      const schema = schemas.newSchema();
      const results = await Promise.all([open(schema).migrate(), open(schema).migrate()]);
      expect(results.flat()).toEqual(MIGRATION_NAMES);
      expect(await open(schema).migrate()).toEqual([]);
      const recorded = await sql<{ name: string }>(schema, 'SELECT name FROM schema_migrations');
      expect(recorded.map((r) => r.name)).toEqual(MIGRATION_NAMES);
    });

    it('migration 063 fills bucket totals from the packs already stored, old packs without a merged entry included (ADR 0024)', async () => {
      const { storage, schema } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const hour = hourOf(Date.UTC(2030, 0, 1));
      const { written, oldPack, expected } = totalsBackfillCase(org.id, hour);
      await storage.replaceBuckets(org.id, 'hour', [hour, hour + H], written);
      // The database as it was before migration 063, plus a pack written before ADR 0013.
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query('INSERT INTO rollup_packs (org_id, granularity, bucket_start, metric, dim_name, value_count, packed) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          org.id, 'hour', oldPack.bucketStart, oldPack.metric, oldPack.dimName, oldPack.valueCount, oldPack.packed,
        ]);
        await client.query("DROP TABLE rollup_totals; DELETE FROM schema_migrations WHERE name = '063_rollup_totals'");
      } finally {
        await client.end();
      }
      expect(await storage.migrate()).toEqual(['063_rollup_totals']);
      const read = await storage.readRollups({ orgId: org.id, granularity: 'hour', from: hour, to: hour + 2 * H, dimName: '', mergeScopes: true });
      const unscoped = (rows: readonly RollupRow[]) => rows.map((r) => ({ ...r, project: '', tag: '', sketch: r.sketch === null ? null : [...r.sketch] }));
      expect(unscoped(read)).toEqual(unscoped(expected));
    });

    it('ping rejects when the database does not answer', async () => {
      const unreachable = createPostgresStorage({ url: 'postgres://postgres@127.0.0.1:1/test' });
      await expect(unreachable.ping()).rejects.toThrow();
      await unreachable.close();
    });

    it('stores events in daily partitions; retention drops whole days and trims the straddling one', async () => {
      const { storage, schema } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const day0 = Date.UTC(2031, 2, 1);
      const events = [0, 1, 2].flatMap((d) => [makeEvent({ ts: day0 + d * DAY + H }), makeEvent({ ts: day0 + d * DAY + 20 * H })]);
      await storage.insertEvents(org.id, events, hourOf, 2);
      expect(await partitionNames(schema)).toEqual(['events_20310301', 'events_20310302', 'events_20310303', 'events_default']);
      expect(await rowsInDefault(schema)).toBe(0);

      const cutoff = day0 + 2 * DAY + 12 * H;
      expect(await storage.countEventsBefore(cutoff)).toBe(5);
      expect(await storage.deleteEventsBefore(cutoff)).toBe(5);
      expect(await partitionNames(schema)).toEqual(['events_20310303', 'events_default']);
      const left = await storage.scanEvents({ orgId: org.id, from: 0, to: day0 + 10 * DAY });
      expect(left.map((e) => e.id)).toEqual([events[5]!.id]);
      // Retention removed the ids too: the deleted events could be stored again.
      const again = await storage.insertEvents(org.id, events.slice(0, 2), hourOf, 3);
      expect(again.inserted).toEqual([true, true]);
      expect(await partitionNames(schema)).toContain('events_20310301');
    });

    it('rows routed to DEFAULT by a stale partition cache move into the partition when it is recreated', async () => {
      const { storage: a, schema } = await fresh();
      const b = open(schema);
      const org = makeOrg();
      await a.createOrg(org, 1);
      const day = Date.UTC(2031, 5, 10);
      await a.insertEvents(org.id, [makeEvent({ ts: day + H })], hourOf, 2);
      await b.insertEvents(org.id, [makeEvent({ ts: day + 2 * H })], hourOf, 2); // b now believes the day exists
      await a.deleteEventsBefore(day + DAY);
      expect(await partitionNames(schema)).toEqual(['events_default']);

      const strayed = makeEvent({ ts: day + 3 * H });
      await b.insertEvents(org.id, [strayed], hourOf, 3);
      expect(await rowsInDefault(schema)).toBe(1);
      const later = makeEvent({ ts: day + 4 * H });
      await a.insertEvents(org.id, [later], hourOf, 4);
      expect(await rowsInDefault(schema)).toBe(0);
      expect(await partitionNames(schema)).toEqual(['events_20310610', 'events_default']);
      const stored = await a.scanEvents({ orgId: org.id, from: day, to: day + DAY });
      expect(stored.map((e) => e.id)).toEqual([strayed.id, later.id]);
    });

    it('stores 10,000 events in one call and reports each position', async () => {
      const { storage } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const start = Date.UTC(2031, 0, 1);
      const events = Array.from({ length: 10_000 }, (_, i) => makeEvent({ ts: start + i * 60_000 }));
      const result = await storage.insertEvents(org.id, events, hourOf, 2);
      expect(result.inserted.filter(Boolean)).toHaveLength(10_000);
      expect(result.dirtyHours).toHaveLength(Math.ceil(10_000 / 60));
      expect(await storage.countEvents(org.id)).toBe(10_000);
    });

    it('round-trips ids and values that need escaping in bulk parameters', async () => {
      const { storage } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const tricky = makeEvent({
        id: 'quote"back\\slash,{brace} NULL',
        tag: 'NULL',
        project: ' spaced ',
        attrs: { nul: 'a\u0000b', quote: '"', backslash: '\\', emoji: '🙂', big: 1e300, tiny: -5e-324, nothing: null },
      });
      await storage.insertEvents(org.id, [tricky], hourOf, 2);
      const [stored] = await storage.scanEvents({ orgId: org.id, from: 0, to: Number.MAX_SAFE_INTEGER });
      expect(stored).toEqual({ ...tricky, orgId: org.id, receivedAt: 2 });
      const row = makeRollupRow({ orgId: org.id, metric: 'm"\\', dimName: 'd', dimValue: 'NULL', sum: Number.NaN, min: Infinity, max: -Infinity });
      await storage.replaceBuckets(org.id, 'hour', [row.bucketStart], [row]);
      expect(await storage.readRollups({ orgId: org.id, granularity: 'hour', from: 0, to: Number.MAX_SAFE_INTEGER })).toEqual([row]);
    });

    it('two processes sending the same events concurrently, in opposite orders, store each event once', async () => {
      const { storage: a, schema } = await fresh();
      const b = open(schema);
      const org = makeOrg();
      await a.createOrg(org, 1);
      for (let round = 0; round < 3; round++) {
        const events = Array.from({ length: 5000 }, (_, i) => makeEvent({ ts: Date.UTC(2031, 1, 1) + i * 1000 }));
        const reversed = [...events].reverse();
        const [ra, rb] = await Promise.all([a.insertEvents(org.id, events, hourOf, 2), b.insertEvents(org.id, reversed, hourOf, 2)]);
        const both = ra.inserted.map((x, i) => Number(x) + Number(rb.inserted[events.length - 1 - i]));
        expect(both.every((n) => n === 1)).toBe(true);
      }
      expect(await a.countEvents(org.id)).toBe(15_000);
    });

    it('a new-event fold sees transactions that commit after its watermark, whatever order they commit in (ADR 0019)', async () => {
      const { storage, schema } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const base = Date.UTC(2031, 5, 1);
      const connect = async () => {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
        await client.connect();
        return client;
      };
      const insert = (client: pg.Client, id: string, ts: number) =>
        client.query(`INSERT INTO events (org_id, id, type, ts, received_at, project, tag, attrs) VALUES ($1, $2, 'api_request', $3, 1, 'p', '', '{}')`, [org.id, id, ts]);
      const early = await connect();
      const late = await connect();
      try {
        // The first transaction to write (the smaller transaction id) commits last.
        await early.query('BEGIN');
        await insert(early, 'early', base + 1);
        await late.query('BEGIN');
        await insert(late, 'late', base + 2);
        await late.query('COMMIT');
        const newSince = async (after: string | null) => {
          const seen: number[] = [];
          const { watermark } = await storage.forEachNewEvent(org.id, [{ from: base, to: base + H, after }], (event) => seen.push(event.ts));
          return { seen, watermark };
        };
        const first = await newSince(null);
        expect(first.seen).toEqual([base + 2]);
        await early.query('COMMIT');
        const second = await newSince(first.watermark);
        expect(second.seen).toEqual([base + 1]);
        expect((await newSince(second.watermark)).seen).toEqual([]);
      } finally {
        await Promise.all([early.end(), late.end()]);
      }
    });

    it('reads an hour\'s new events by seeking to them, not by walking the events the hour already holds (ADR 0028)', async () => {
      const { storage, schema } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      // An hour of a half-hour zone, and statistics taken early in it, as autovacuum leaves them
      // in a running service (a partition is analyzed once it holds a few rows, then again at
      // every tenth more).
      const hour = Date.UTC(2031, 2, 1, 10, 30);
      await storage.insertEvents(org.id, Array.from({ length: 500 }, (_, i) => makeEvent({ ts: hour + i * 1000 })), hourOf, 1);
      await sql(schema, 'ANALYZE events');
      for (let batch = 0; batch < 4; batch++) {
        const events = Array.from({ length: 5000 }, (_, i) => makeEvent({ ts: hour + 500_000 + ((batch * 5000 + i) * 179) % (H - 500_000) }));
        await storage.insertEvents(org.id, events, hourOf, 1);
      }
      const range = { from: hour, to: hour + H };
      const { watermark } = await storage.forEachNewEvent(org.id, [{ ...range, after: null }], () => undefined);
      const stored = Array.from({ length: 40 }, (_, i) => makeEvent({ ts: hour + i * 60_000 }));
      await storage.insertEvents(org.id, stored, hourOf, 2);

      const { query, sorts } = newEventsQuery(org.id, { ...range, after: watermark });
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL enable_sort = ${sorts ? 'on' : 'off'}`);
        const explained = await client.query<{ 'QUERY PLAN': unknown }>({ text: `EXPLAIN (ANALYZE, FORMAT JSON) ${query.text}`, values: query.values });
        await client.query('ROLLBACK');
        type PlanNode = { 'Node Type': string; 'Index Cond'?: string; 'Actual Rows': number; Plans?: PlanNode[] };
        const scans: PlanNode[] = [];
        const walk = (node: PlanNode): void => {
          if (node['Index Cond'] !== undefined) scans.push(node);
          node.Plans?.forEach(walk);
        };
        walk((explained.rows[0]!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan);
        // Every index scan seeks by quarter hour and txid; none by the time range, which would
        // pass over the hour's 20,000 older entries.
        expect(scans.length).toBeGreaterThan(0);
        for (const scan of scans) expect(scan['Index Cond']).toMatch(/ts \/ 900000.*txid >=/);
        expect(scans.reduce((rows, scan) => rows + scan['Actual Rows'], 0)).toBe(stored.length);
      } finally {
        await client.end();
      }
      const seen: number[] = [];
      await storage.forEachNewEvent(org.id, [{ ...range, after: watermark }], (event) => seen.push(event.ts));
      expect(seen).toEqual(stored.map((e) => e.ts));
    });

    it('concurrent writers of one supersede key leave exactly the latest event visible', async () => {
      const { storage: a, schema } = await fresh();
      const b = open(schema);
      const org = makeOrg();
      await a.createOrg(org, 1);
      const base = Date.UTC(2031, 3, 1);
      for (let round = 0; round < 10; round++) {
        const exec = `exec-${round}`;
        const early = makeFileExecution(exec, 'a.pdf', 'ERROR', base + round * H);
        const late = makeFileExecution(exec, 'a.pdf', 'COMPLETED', base + round * H + 1000);
        await Promise.all([a.insertEvents(org.id, [late], hourOf, 2), b.insertEvents(org.id, [early], hourOf, 2)]);
      }
      const visible = await a.scanEvents({ orgId: org.id, from: base, to: base + DAY });
      expect(visible.map((e) => e.attrs['status'])).toEqual(Array.from({ length: 10 }, () => 'COMPLETED'));
      expect(visible[0]?.supersedeKey).toBe('file_execution\u0000exec-0\u0000a.pdf');
    });

    it('replaceBuckets failing on a duplicate key after earlier packs were sent leaves every bucket as it was', async () => {
      const { storage } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const hours = Array.from({ length: 30 }, (_, i) => Date.UTC(2031, 0, 1) + i * H);
      const rowsOf = (count: number) =>
        hours.flatMap((bucketStart) =>
          Array.from({ length: 1000 }, (_, j) => makeRollupRow({ orgId: org.id, bucketStart, dimName: 'model', dimValue: `m-${j}`, count, sum: j })),
        );
      await storage.replaceBuckets(org.id, 'hour', hours, rowsOf(1));
      // Packed in steps of whole buckets: the duplicate sits in the last bucket, after the first steps' statements ran.
      const broken = rowsOf(2);
      broken.push({ ...broken[broken.length - 1]! });
      await expect(storage.replaceBuckets(org.id, 'hour', hours, broken)).rejects.toThrow(/duplicate/);
      const read = await storage.readRollups({ orgId: org.id, granularity: 'hour', from: hours[0]!, to: hours[29]! + H });
      expect(read).toHaveLength(30_000);
      expect(read.every((row) => row.count === 1)).toBe(true);
    });

    it('stores large pack blobs out of line without compression (migration 051)', async () => {
      const { storage, schema } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const B0 = Date.UTC(2031, 0, 1);
      const rows = Array.from({ length: 1000 }, (_, j) => makeRollupRow({ orgId: org.id, granularity: 'day', bucketStart: B0, dimName: 'model', dimValue: `model-${j}`, count: 2, sum: 2 }));
      await storage.replaceBuckets(org.id, 'day', [B0], rows);
      const stored = await sql<{ bytes: number; compression: string | null }>(
        schema,
        'SELECT length(packed) AS bytes, pg_column_compression(packed) AS compression FROM rollup_packs',
      );
      expect(stored).toHaveLength(1);
      expect(stored[0]!.bytes).toBeGreaterThan(4_000);
      expect(stored[0]!.compression).toBeNull();
      expect(await storage.readRollups({ orgId: org.id, granularity: 'day', from: B0, to: B0 + DAY })).toHaveLength(1000);
    });

    it('rollup writes commit without waiting for the WAL flush; clearing the dirty marks waits for it (ADR 0011)', async () => {
      const { storage, schema } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      // Every write records the synchronous_commit of its transaction.
      await sql(
        schema,
        `CREATE TABLE commit_modes (tbl text, mode text);
         CREATE FUNCTION record_commit_mode() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN INSERT INTO commit_modes VALUES (TG_TABLE_NAME, current_setting('synchronous_commit')); RETURN NULL; END $$;
         CREATE TRIGGER packs_mode AFTER INSERT OR UPDATE OR DELETE ON rollup_packs FOR EACH STATEMENT EXECUTE FUNCTION record_commit_mode();
         CREATE TRIGGER marks_mode AFTER DELETE ON dirty_hours FOR EACH STATEMENT EXECUTE FUNCTION record_commit_mode();`,
      );
      const B0 = Date.UTC(2031, 0, 1);
      await storage.markDirty(org.id, [B0]);
      await storage.replaceBuckets(org.id, 'hour', [B0], [makeRollupRow({ orgId: org.id, bucketStart: B0, count: 1, sum: 1 })]);
      await storage.writeRollupRows(org.id, [makeRollupRow({ orgId: org.id, granularity: 'day', bucketStart: B0, count: 1, sum: 1 })], []);
      await storage.clearDirty(await storage.listDirty(org.id, 10));
      const modes = await sql<{ tbl: string; mode: string }>(schema, 'SELECT DISTINCT tbl, mode FROM commit_modes ORDER BY tbl');
      expect(modes).toEqual([
        { tbl: 'dirty_hours', mode: 'on' },
        { tbl: 'rollup_packs', mode: 'off' },
      ]);
    });

    it('replaceBuckets writes large bucket sets in several statements, atomically', async () => {
      const { storage } = await fresh();
      const org = makeOrg();
      await storage.createOrg(org, 1);
      const hours = Array.from({ length: 60 }, (_, i) => Date.UTC(2031, 0, 1) + i * H);
      const rows = hours.flatMap((bucketStart) =>
        Array.from({ length: 1000 }, (_, j) =>
          makeRollupRow({ orgId: org.id, bucketStart, dimName: 'model', dimValue: `m-${j}`, count: j, sum: j * 1.5 }),
        ),
      );
      await storage.replaceBuckets(org.id, 'hour', hours, rows);
      const read = await storage.readRollups({ orgId: org.id, granularity: 'hour', from: hours[0]!, to: hours[59]! + H });
      expect(read).toHaveLength(60_000);
      expect(read.reduce((total, r) => total + r.sum, 0)).toBe(rows.reduce((total, r) => total + r.sum, 0));

      // A rewrite in the merge path: some rows change, some vanish, some are new, the rest stay.
      const rewritten = rows
        .filter((_, i) => i % 7 !== 0)
        .map((r, i) => (i % 3 === 0 ? { ...r, count: r.count + 1, sketch: new Uint8Array([i % 256, 1]) } : r));
      const added = hours.map((bucketStart) => makeRollupRow({ orgId: org.id, bucketStart, metric: 'new_metric', count: 2, sum: 2 }));
      await storage.replaceBuckets(org.id, 'hour', [...hours].reverse(), [...added, ...rewritten]);
      const reread = await storage.readRollups({ orgId: org.id, granularity: 'hour', from: 0, to: hours[59]! + H });
      expect(comparable(reread)).toEqual(comparable([...added, ...rewritten]));

      await storage.replaceBuckets(org.id, 'hour', hours, rows.slice(0, 10));
      expect(await storage.readRollups({ orgId: org.id, granularity: 'hour', from: 0, to: hours[59]! + H })).toHaveLength(10);
    });
  });
});
