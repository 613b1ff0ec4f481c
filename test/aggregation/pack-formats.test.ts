import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePack } from '../../src/adapters/rollup-pack-codec.ts';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { makeOrg } from '../factories/org.ts';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import { compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import type { SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Packs written before ADR 0008 are in format 1; an upgrade keeps them as they are (no
 * migration rewrites blobs). This stores every pack of an aggregated org in format 1 — encoded
 * here from the format's description in ADR 0006, independently of the production encoder —
 * then checks that every tier still reads as the oracle computes it from the raw events, and
 * that a steady pass (row-level deltas rewriting some packs in format 2, beside untouched
 * format-1 packs) keeps it so.
 */

const NOW = Date.UTC(2026, 10, 3, 12, 0, 0);
const FROM = Date.UTC(2026, 9, 12, 0, 0, 0);
const TO = Date.UTC(2026, 10, 3, 10, 0, 0);
const SEED = Number(process.env['ORACLE_SEED'] ?? 20261203);

interface StoredPack {
  org_id: string;
  granularity: string;
  bucket_start: number | string;
  metric: string;
  dim_name: string;
  packed: Buffer;
}

function varint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function float(out: number[], value: number): void {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  out.push(...b);
}

function bytes(out: number[], value: Uint8Array): void {
  varint(out, value.byteLength);
  out.push(...value);
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const whole = (n: number) => Number.isSafeInteger(n) && !Object.is(n, -0);

/** A pack's blob re-encoded in format 1 (ADR 0006): every entry spelled out, sum/min/max as floats. */
function asFormat1(packed: Buffer): Buffer {
  const entries: Array<{ project: string; tag: string; dimValue: string; count: number; sum: number; min: number; max: number; sketch: Uint8Array | null; lastValue: number | null; lastTs: number | null; hll: Uint8Array | null }> = [];
  decodePack(packed, (e) => entries.push({ ...e }));
  const scopes = [...new Set(entries.flatMap((e) => [e.project, e.tag]))];
  const out: number[] = [1];
  varint(out, scopes.length);
  for (const s of scopes) bytes(out, utf8(s));
  for (const e of entries) {
    varint(out, scopes.indexOf(e.project));
    varint(out, scopes.indexOf(e.tag));
    bytes(out, utf8(e.dimValue));
    const integral = whole(e.sum) && whole(e.min) && whole(e.max);
    const last = e.lastValue !== null || e.lastTs !== null;
    out.push((integral ? 2 : 0) | (e.sketch !== null ? 4 : 0) | (last ? 8 : 0) | (e.hll !== null ? 16 : 0));
    varint(out, e.count);
    for (const v of [e.sum, e.min, e.max]) {
      if (integral) varint(out, v >= 0 ? v * 2 : -v * 2 - 1);
      else float(out, v);
    }
    if (e.sketch !== null) bytes(out, e.sketch);
    if (last) {
      float(out, e.lastValue ?? NaN);
      float(out, e.lastTs ?? NaN);
    }
    if (e.hll !== null) bytes(out, e.hll);
  }
  return Buffer.from(out);
}

const UPDATE = 'UPDATE rollup_packs SET packed = $1 WHERE org_id = $2 AND granularity = $3 AND bucket_start = $4 AND metric = $5 AND dim_name = $6';

/** Runs `work` on the test database directly (what the code under test never writes). */
async function withDatabase<T>(t: AggregationTestContext, work: (all: (sql: string) => Promise<StoredPack[]>, run: (sql: string, params: unknown[]) => Promise<void>) => Promise<T>): Promise<T> {
  if (t.database.engine === 'sqlite') {
    const db = new Database(t.database.file);
    try {
      db.pragma('busy_timeout = 5000');
      const positional = (sql: string) => sql.replace(/\$\d+/g, '?');
      return await work(
        async (sql) => db.prepare(sql).all() as StoredPack[],
        async (sql, params) => void db.prepare(positional(sql)).run(...params),
      );
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${t.database.schema}`);
    return await work(
      async (sql) => (await client.query<StoredPack>(sql)).rows,
      async (sql, params) => void (await client.query(sql, params)),
    );
  } finally {
    await client.end();
  }
}

async function storeAllAsFormat1(t: AggregationTestContext): Promise<number> {
  return withDatabase(t, async (all, run) => {
    const packs = await all('SELECT org_id, granularity, bucket_start, metric, dim_name, packed FROM rollup_packs');
    await run('BEGIN', []);
    for (const p of packs) await run(UPDATE, [asFormat1(p.packed), p.org_id, p.granularity, p.bucket_start, p.metric, p.dim_name]);
    await run('COMMIT', []);
    return packs.length;
  });
}

async function formatCounts(t: AggregationTestContext): Promise<Map<number, number>> {
  return withDatabase(t, async (all) => {
    const counts = new Map<number, number>();
    for (const p of await all('SELECT packed FROM rollup_packs')) counts.set(p.packed[0]!, (counts.get(p.packed[0]!) ?? 0) + 1);
    return counts;
  });
}

describe.each(ENGINES)('rollup packs stored in format 1 on %s', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'America/New_York' });
  const sent: SentEvent[] = [];

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    await t.ctx.storage.createOrg(org, NOW);
  });
  afterAll(() => t.close());

  it('read as the oracle computes them, before and after a steady pass rewrites some packs', async () => {
    const random = seededRandom(SEED);
    const history = generateEvents({ random, idPrefix: 'old', from: FROM, to: TO, count: 1000 });
    sent.push(...history);
    await ingestAll(t.ctx, org.id, history);
    await aggregateDirtyBuckets(t.ctx);
    expect(await formatCounts(t)).toEqual(new Map([[2, expect.any(Number) as number]]));

    const stored = await storeAllAsFormat1(t);
    expect(await formatCounts(t)).toEqual(new Map([[1, stored]]));
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics)), `seed ${SEED}`).toEqual([]);

    const recent = generateEvents({ random, idPrefix: 'new', from: TO - 2 * 3_600_000, to: TO, count: 50 });
    const late = generateEvents({ random, idPrefix: 'late', from: Date.UTC(2026, 9, 20, 6), to: Date.UTC(2026, 9, 20, 7), count: 6 });
    sent.push(...recent, ...late);
    await ingestAll(t.ctx, org.id, [...recent, ...late]);
    await aggregateDirtyBuckets(t.ctx);

    const formats = await formatCounts(t);
    expect(formats.get(1)).toBeGreaterThan(0);
    expect(formats.get(2)).toBeGreaterThan(0);
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics)), `seed ${SEED}`).toEqual([]);
  }, HEAVY_TEST_TIMEOUT_MS);
});
