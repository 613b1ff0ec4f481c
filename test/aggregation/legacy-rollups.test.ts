import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDirtyBuckets } from '../../src/app/aggregate.ts';
import { backfill } from '../../src/app/backfill.ts';
import { aggregateEvents, compileMetrics } from '../../src/domain/metrics/evaluate.ts';
import { mergeAllPartials } from '../../src/domain/rollup-math.ts';
import type { Granularity, RollupRow } from '../../src/domain/rollup-types.ts';
import { floorBucket } from '../../src/domain/time-buckets.ts';
import { sortRollupRows } from '../../src/adapters/rollup-packs.ts';
import { makeOrg } from '../factories/org.ts';
import { TEST_DATABASE_URL } from '../support/postgres.ts';
import { compareRowsWithOracle, compareWithOracle, summarize } from './compare.ts';
import { generateEvents } from './generate.ts';
import { rowKey, type SentEvent } from './oracle.ts';
import { createAggregationContext, ENGINES, ingestAll, readAllTiers, seededRandom, type AggregationTestContext, HEAVY_TEST_TIMEOUT_MS } from './support.ts';

/**
 * Buckets aggregated before migration 050 keep their rows in the pre-pack `rollups` table, in
 * the old layout: dimension rows split by project × tag. A steady pass (ADR 0007) over such a
 * bucket diffs old-layout stored hour rows against new-layout fresh ones, so its coarse rows
 * end up holding both key shapes (split keys for the hours not recomputed, all-scope keys for
 * the recomputed ones). Every answer merges dimension rows across project and tag, so what
 * must hold is: per (tier, bucket, metric, dimension value) the rows merged over project and
 * tag equal the oracle's cell, no key is stored twice, and a backfill afterwards leaves
 * exactly the oracle's rows, none of them in the pre-pack table.
 */

const NOW = Date.UTC(2026, 10, 3, 12, 0, 0);
const FROM = Date.UTC(2026, 9, 12, 0, 0, 0);
const TO = Date.UTC(2026, 10, 3, 10, 0, 0);
const SEED = Number(process.env['ORACLE_SEED'] ?? 20261202);
const TIERS: readonly Granularity[] = ['hour', 'day', 'week', 'month'];

/** Dimension rows merged over project and tag into the all-scope key the oracle uses. */
function mergeScopes(rows: readonly RollupRow[]): RollupRow[] {
  const out: RollupRow[] = [];
  const groups = new Map<string, RollupRow[]>();
  for (const row of rows) {
    if (row.dimName === '') {
      out.push(row);
      continue;
    }
    const key = [row.granularity, row.bucketStart, row.metric, row.dimName, row.dimValue].join('|');
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
  }
  for (const group of groups.values()) out.push({ ...group[0]!, project: '', tag: '', ...mergeAllPartials(group) });
  return out;
}

/** What the code before migration 050 stored: every tier computed per (project, tag). */
async function legacyRows(t: AggregationTestContext, orgId: string, timeZone: string): Promise<RollupRow[]> {
  const events = await t.ctx.storage.scanEvents({ orgId, from: 0, to: Number.MAX_SAFE_INTEGER });
  const byScope = new Map<string, typeof events>();
  for (const event of events) {
    const scope = `${event.project}\u0000${event.tag}`;
    const list = byScope.get(scope);
    if (list === undefined) byScope.set(scope, [event]);
    else list.push(event);
  }
  const compiled = compileMetrics(t.ctx.metrics);
  const rows: RollupRow[] = [];
  for (const scoped of byScope.values()) {
    const { project, tag } = scoped[0]!;
    for (const granularity of TIERS) {
      for (const row of aggregateEvents(scoped, compiled, (ts) => floorBucket(ts, granularity, timeZone), granularity)) {
        rows.push(row.dimName === '' ? row : { ...row, project, tag });
      }
    }
  }
  return rows;
}

const LEGACY_COLUMNS = 'org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll';
const legacyValues = (r: RollupRow) => [
  r.orgId, r.granularity, r.bucketStart, r.metric, r.project, r.tag, r.dimName, r.dimValue, r.count, r.sum, r.min, r.max,
  r.sketch === null ? null : Buffer.from(r.sketch), r.lastValue, r.lastTs, r.hll === null ? null : Buffer.from(r.hll),
];

/** Replaces the org's packs by `rows` in the pre-pack table, as if migration 050 had just run. */
async function storeAsLegacy(t: AggregationTestContext, orgId: string, rows: readonly RollupRow[]): Promise<void> {
  if (t.database.engine === 'sqlite') {
    const db = new Database(t.database.file);
    try {
      db.pragma('busy_timeout = 5000');
      const insert = db.prepare(`INSERT INTO rollups (${LEGACY_COLUMNS}) VALUES (${LEGACY_COLUMNS.split(',').map(() => '?').join(', ')})`);
      db.transaction(() => {
        db.prepare('DELETE FROM rollup_packs WHERE org_id = ?').run(orgId);
        for (const row of rows) insert.run(...legacyValues(row));
      })();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${t.database.schema}`);
    await client.query('BEGIN');
    await client.query('DELETE FROM rollup_packs WHERE org_id = $1', [orgId]);
    const width = LEGACY_COLUMNS.split(',').length;
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const tuples = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
      await client.query(`INSERT INTO rollups (${LEGACY_COLUMNS}) VALUES ${tuples.join(', ')}`, chunk.flatMap(legacyValues));
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

async function legacyCount(t: AggregationTestContext, orgId: string, granularity: Granularity, bucketStart: number): Promise<number> {
  if (t.database.engine === 'sqlite') {
    const db = new Database(t.database.file, { readonly: true });
    try {
      return db.prepare<[string, string, number], number>('SELECT count(*) FROM rollups WHERE org_id = ? AND granularity = ? AND bucket_start = ?').pluck().get(orgId, granularity, bucketStart)!;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${t.database.schema}`);
    const result = await client.query<{ n: string }>('SELECT count(*) AS n FROM rollups WHERE org_id = $1 AND granularity = $2 AND bucket_start = $3', [orgId, granularity, bucketStart]);
    return Number(result.rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe.each(ENGINES)('steady passes over pre-pack rollups on %s', (engine) => {
  let t: AggregationTestContext;
  const org = makeOrg({ timezone: 'Asia/Kolkata' });
  const sent: SentEvent[] = [];

  beforeAll(async () => {
    t = await createAggregationContext(engine, { now: NOW });
    await t.ctx.storage.createOrg(org, NOW);
  });
  afterAll(() => t.close());

  function expectMergedOracle(rows: readonly RollupRow[]): void {
    const seen = new Set<string>();
    const twice = rows.map((row) => rowKey(row, org.timezone)).filter((key) => seen.has(key) || !seen.add(key));
    expect(twice, 'keys stored twice (pack and pre-pack table)').toEqual([]);
    expect(summarize(compareRowsWithOracle(mergeScopes(rows), org.timezone, sent, t.ctx.metrics)), `seed ${SEED}`).toEqual([]);
  }

  it('a steady pass over old-layout buckets keeps every merged answer equal to the oracle', async () => {
    const random = seededRandom(SEED);
    const history = generateEvents({ random, idPrefix: 'old', from: FROM, to: TO, count: 1200 });
    sent.push(...history);
    await ingestAll(t.ctx, org.id, history);
    await aggregateDirtyBuckets(t.ctx);
    await storeAsLegacy(t, org.id, await legacyRows(t, org.id, org.timezone));
    const legacy = await readAllTiers(t.ctx.storage, org.id);
    expect(legacy.some((row) => row.dimName !== '' && row.project !== '')).toBe(true);
    expectMergedOracle(legacy);

    // New events in two recent hours and a late one; a duplicate; a superseding execution (a row a delta cannot update exactly).
    const recent = generateEvents({ random, idPrefix: 'new', from: TO - 2 * 3_600_000, to: TO, count: 60 });
    const late = generateEvents({ random, idPrefix: 'late', from: Date.UTC(2026, 9, 20, 6), to: Date.UTC(2026, 9, 20, 7), count: 8 });
    const oldExecution = history.find((e) => e.type === 'file_execution' && Date.parse(e.timestamp) > Date.UTC(2026, 9, 28) && Date.parse(e.timestamp) < Date.UTC(2026, 10, 1))!;
    const superseding: SentEvent = { ...oldExecution, id: 'supersedes-old', timestamp: new Date(Date.parse(oldExecution.timestamp) + 3_600_000).toISOString(), status: 'ERROR', pages: 1 };
    const steady = [...recent, ...late, history[0]!, superseding];
    sent.push(...steady);
    await ingestAll(t.ctx, org.id, steady);
    const pass = await aggregateDirtyBuckets(t.ctx);

    expect(pass.tiers!.hour.buckets).toBeGreaterThan(0);
    expect(pass.tiers!.hour.buckets).toBeLessThan(10);
    const mixed = await readAllTiers(t.ctx.storage, org.id);
    expectMergedOracle(mixed);
    // The incremental path ran over old-layout buckets: the late event's month still has pre-pack rows beside new-layout keys.
    const lateMonth = floorBucket(Date.parse(late[0]!.timestamp), 'month', org.timezone);
    expect(await legacyCount(t, org.id, 'month', lateMonth)).toBeGreaterThan(0);
    const monthRows = mixed.filter((row) => row.granularity === 'month' && row.bucketStart === lateMonth && row.dimName !== '');
    expect(monthRows.some((row) => row.project === '')).toBe(true);
    expect(monthRows.some((row) => row.project !== '')).toBe(true);
    // A read of (metric, dimension) pairs finds the pre-pack rows of its pairs too, as one read per pair does.
    const legacyPairs = [...new Map(monthRows.filter((row) => row.project !== '').map((row) => [`${row.metric}/${row.dimName}`, { metric: row.metric, dimName: row.dimName }])).values()].slice(0, 3);
    const month = { orgId: org.id, granularity: 'month' as const, from: lateMonth, to: lateMonth + 1, mergeScopes: true };
    const byPairs = await t.ctx.storage.readRollups({ ...month, pairs: legacyPairs });
    const perPair = (await Promise.all(legacyPairs.map((pair) => t.ctx.storage.readRollups({ ...month, metrics: [pair.metric], dimName: pair.dimName })))).flat();
    expect(byPairs.some((row) => row.project !== '')).toBe(true);
    expect(sortRollupRows([...byPairs])).toEqual(sortRollupRows(perPair));
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a backfill afterwards leaves exactly the oracle rows, all in packs', async () => {
    await backfill(t.ctx, { from: FROM - 86_400_000, to: NOW });
    expect(summarize(await compareWithOracle(t.ctx.storage, org.id, org.timezone, sent, t.ctx.metrics)), `seed ${SEED}`).toEqual([]);
    // Backfill rebuilds whole buckets (never the steady path), so every pre-pack row of the range is gone.
    const rows = await readAllTiers(t.ctx.storage, org.id);
    for (const granularity of TIERS) {
      for (const bucket of new Set(rows.filter((row) => row.granularity === granularity).map((row) => row.bucketStart))) {
        expect(await legacyCount(t, org.id, granularity, bucket), `${granularity} ${bucket}`).toBe(0);
      }
    }
  }, HEAVY_TEST_TIMEOUT_MS);
});
