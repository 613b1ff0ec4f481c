import type { Database, Statement } from 'better-sqlite3';
import { lazy } from './lazy-statement.ts';
import { withRelaxedCommit } from './relaxed-commit.ts';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { LeaseStore, RetentionStore, RollupQuery, RollupReader, RollupWriter } from '../../ports/storage.ts';
import { packRows, unpackRows, type Pack } from '../rollup-packs.ts';
import { pairKey, pairKeySet, pairsOf } from '../rollup-pairs.ts';
import { readsTotals } from '../rollup-totals.ts';
import { sqliteRollupTotals } from './sqlite-rollup-totals.ts';

export type StoredRollup = [
  orgId: string, granularity: Granularity, bucketStart: number, metric: string, project: string, tag: string,
  dimName: string, dimValue: string, count: number, sum: number, min: number, max: number,
  sketch: Buffer | null, lastValue: number | null, lastTs: number | null, hll: Buffer | null,
];

export const ROLLUP_COLUMNS =
  'org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll';
type StoredPack = [bucketStart: number, metric: string, dimName: string, packed: Buffer];
const PACK_COLUMNS = 'org_id, granularity, bucket_start, metric, dim_name, value_count, packed';
const PACK_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?)';
/** Packs per multi-row INSERT: far fewer statements than one per pack (448 parameters). */
const PACK_CHUNK = 64;
const PACK_PARAMS = 7;

function putPackParams(into: unknown[], at: number, orgId: string, granularity: Granularity, pack: Pack): void {
  into[at] = orgId;
  into[at + 1] = granularity;
  into[at + 2] = pack.bucketStart;
  into[at + 3] = pack.metric;
  into[at + 4] = pack.dimName;
  into[at + 5] = pack.valueCount;
  into[at + 6] = pack.packed;
}

export function toRollup(row: StoredRollup): RollupRow {
  const [orgId, granularity, bucketStart, metric, project, tag, dimName, dimValue, count, sum, min, max, sketch, lastValue, lastTs, hll] = row;
  return {
    orgId, granularity, bucketStart, metric, project, tag, dimName, dimValue, count, sum, min, max,
    // a plain Uint8Array view (not a Buffer) so callers see the port's type exactly
    sketch: sketch === null ? null : new Uint8Array(sketch.buffer, sketch.byteOffset, sketch.byteLength),
    lastValue, lastTs,
    hll: hll === null ? null : new Uint8Array(hll.buffer, hll.byteOffset, hll.byteLength),
  };
}

/** Rows outside the replaced buckets would escape the delete and break the "replace" guarantee. */
function assertRowsInBuckets(orgId: string, granularity: Granularity, buckets: ReadonlySet<number>, rows: readonly RollupRow[]): void {
  for (const row of rows) {
    if (row.orgId !== orgId || row.granularity !== granularity || !buckets.has(row.bucketStart)) {
      throw new Error(
        `replaceBuckets(${orgId}, ${granularity}): row ${row.orgId}/${row.granularity}/${row.bucketStart}/${row.metric} is outside the replaced buckets`,
      );
    }
  }
}

/** Metrics a read may name and still seek them one by one (see packSelectFor). */
const NARROW_READ_METRICS = 8;

export function sqliteRollupStore(db: Database): Omit<RollupReader, 'readRollupsByKey'> & Omit<RollupWriter, 'writeRollupRows'> & Pick<RetentionStore, 'deleteRollupsBefore' | 'countRollupsBefore'> & LeaseStore {
  const sql = lazy(() => ({
    // Rows of the pre-packing layout (migration 050) are deleted with their bucket, never written.
    deleteLegacyBucket: db.prepare<[string, Granularity, number]>(
      'DELETE FROM rollups WHERE org_id = ? AND granularity = ? AND bucket_start = ?',
    ),
    deleteBucket: db.prepare<[string, Granularity, number]>(
      'DELETE FROM rollup_packs WHERE org_id = ? AND granularity = ? AND bucket_start = ?',
    ),
    insertPack: db.prepare(`INSERT INTO rollup_packs (${PACK_COLUMNS}) VALUES ${PACK_PLACEHOLDERS}`),
    insertPackChunk: db.prepare(
      `INSERT INTO rollup_packs (${PACK_COLUMNS}) VALUES ${Array<string>(PACK_CHUNK).fill(PACK_PLACEHOLDERS).join(', ')}`,
    ),
    legacyRowsOf: db.prepare<[string], number>('SELECT 1 FROM rollups WHERE org_id = ? LIMIT 1').pluck(),
    metricNames: db
      .prepare<[string, string], string>('SELECT metric FROM rollup_packs WHERE org_id = ? UNION SELECT metric FROM rollups WHERE org_id = ? ORDER BY metric')
      .pluck(),
    deleteLegacyBefore: db.prepare<[Granularity, number]>('DELETE FROM rollups WHERE granularity = ? AND bucket_start < ?'),
    countLegacyBefore: db
      .prepare<[Granularity, number], number>('SELECT count(*) FROM rollups WHERE granularity = ? AND bucket_start < ?')
      .pluck(),
    countBefore: db
      .prepare<[Granularity, number], number>('SELECT coalesce(sum(value_count), 0) FROM rollup_packs WHERE granularity = ? AND bucket_start < ?')
      .pluck(),
    deleteBefore: db.prepare<[Granularity, number]>('DELETE FROM rollup_packs WHERE granularity = ? AND bucket_start < ?'),
    deleteOrg: db.prepare<[string]>('DELETE FROM rollup_packs WHERE org_id = ?'),
    deleteLegacyOrg: db.prepare<[string]>('DELETE FROM rollups WHERE org_id = ?'),
    takeFolds: db.prepare<[string, string], [hourStart: number, watermark: string]>(
      'DELETE FROM hour_folds WHERE org_id = ? AND hour_start IN (SELECT value FROM json_each(?)) RETURNING hour_start, watermark',
    ).raw(),
    putFold: db.prepare<[string, number, string]>(
      'INSERT INTO hour_folds (org_id, hour_start, watermark) VALUES (?, ?, ?) ON CONFLICT (org_id, hour_start) DO UPDATE SET watermark = excluded.watermark',
    ),
    dropFolds: db.prepare<[string, number, number]>('DELETE FROM hour_folds WHERE org_id = ? AND hour_start >= ? AND hour_start < ?'),
    dropOrgFolds: db.prepare<[string]>('DELETE FROM hour_folds WHERE org_id = ?'),
    // Takes the lease when it is free, expired, or already ours; a refused upsert changes no row.
    acquireLease: db.prepare<[string, string, number, number]>(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
    ),
    releaseLease: db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?'),
    // Named (metric, dimension) pairs (ADR 0026): buckets from the totals' keys, then one seek of
    // the pack key (its unique index, ADR 0027) per (bucket, metric, dimension) — the same
    // invariants as the keyed read below (ADR 0024).
    pairPacks: db
      .prepare<[Record<string, unknown>], StoredPack>(
        `SELECT p.bucket_start, p.metric, p.dim_name, p.packed
           FROM rollup_totals AS t CROSS JOIN json_each(@pairs) AS k CROSS JOIN rollup_packs AS p
          WHERE t.org_id = @orgId AND t.granularity = @granularity AND t.bucket_start >= @from AND t.bucket_start < @to
            AND p.org_id = t.org_id AND p.granularity = t.granularity AND p.bucket_start = t.bucket_start
            AND p.metric = k.value ->> 0 AND p.dim_name = k.value ->> 1
          ORDER BY p.bucket_start, p.metric, p.dim_name`,
      )
      .raw(),
  }));

  // One prepared statement per combination of present filters: an `(@x IS NULL OR …)` form
  // would keep the planner from using rollups_global_by_metric.
  const selects = new Map<string, Statement<[Record<string, unknown>], StoredRollup>>();
  function selectFor(q: RollupQuery): Statement<[Record<string, unknown>], StoredRollup> {
    const byMetric = q.metrics !== undefined && q.metrics.length > 0;
    const globalOnly = q.dimName === '';
    const shape = [byMetric, q.project !== undefined, q.tag !== undefined, q.dimName === undefined ? 'any' : globalOnly].join();
    let statement = selects.get(shape);
    if (statement === undefined) {
      const where = ['org_id = @orgId', 'granularity = @granularity', 'bucket_start >= @from', 'bucket_start < @to'];
      if (byMetric) where.push('metric IN (SELECT value FROM json_each(@metrics))');
      if (q.project !== undefined) where.push('project = @project');
      if (q.tag !== undefined) where.push('tag = @tag');
      // A literal, not a parameter: only then can SQLite prove the partial index applies.
      if (globalOnly) where.push("dim_name = ''");
      else if (q.dimName !== undefined) where.push('dim_name = @dimName');
      // Without statistics the planner prefers the primary key's bucket range, which visits every row.
      const from = byMetric && globalOnly ? 'rollups INDEXED BY rollups_global_by_metric' : 'rollups';
      statement = db
        .prepare<[Record<string, unknown>], StoredRollup>(
          `SELECT ${ROLLUP_COLUMNS} FROM ${from} WHERE ${where.join(' AND ')}
           ORDER BY bucket_start, metric, project, tag, dim_name, dim_value`,
        )
        .raw();
      selects.set(shape, statement);
    }
    return statement;
  }

  const packSelects = new Map<string, Statement<[Record<string, unknown>], StoredPack>>();
  /** How a pack read finds its packs (see packSelectFor). */
  type PackAccess = 'range' | 'narrow' | 'keyed';
  function packAccessOf(q: RollupQuery): PackAccess {
    const few = q.metrics !== undefined && q.metrics.length > 0 && q.metrics.length <= NARROW_READ_METRICS;
    if (!few) return 'range';
    return q.dimName !== undefined && q.dimName !== '' ? 'narrow' : 'keyed';
  }
  function packSelectFor(q: RollupQuery): Statement<[Record<string, unknown>], StoredPack> {
    const byMetric = q.metrics !== undefined && q.metrics.length > 0;
    const access = packAccessOf(q);
    const shape = [byMetric, access, q.dimName === undefined ? 'any' : q.dimName === '' ? 'global' : 'dim'].join();
    let statement = packSelects.get(shape);
    if (statement === undefined) {
      const dimFilter = q.dimName === '' ? ["dim_name = ''"] : q.dimName !== undefined ? ['dim_name = @dimName'] : [];
      let text: string;
      if (access === 'keyed') {
        // A few metrics, global or of every dimension: the pack key's bucket range would
        // visit every metric's packs of those buckets (~190 µs for a dashboard's 4 metrics over
        // 7 days at 10M events, ~120 µs this way). The buckets come from the totals' keys (a
        // covering index: every bucket holding a global pack has its totals row, and no metric
        // has dimension packs without its global pack, ADR 0024), then each (bucket, metric) is
        // a seek of the pack key. @metrics holds each metric once.
        text = `SELECT p.bucket_start, p.metric, p.dim_name, p.packed
                  FROM rollup_totals AS t CROSS JOIN json_each(@metrics) AS m CROSS JOIN rollup_packs AS p
                 WHERE t.org_id = @orgId AND t.granularity = @granularity AND t.bucket_start >= @from AND t.bucket_start < @to
                   AND p.org_id = t.org_id AND p.granularity = t.granularity AND p.bucket_start = t.bucket_start AND p.metric = m.value
                   ${dimFilter.map((f) => `AND p.${f}`).join(' ')}
                 ORDER BY p.bucket_start, p.metric, p.dim_name`;
      } else {
        // A few metrics of one named dimension: seek each in rollup_packs_by_metric (migration 062).
        // Many metrics or none named: the range in primary-key order.
        const where = ['org_id = @orgId', 'granularity = @granularity', 'bucket_start >= @from', 'bucket_start < @to', ...dimFilter];
        if (byMetric) where.push('metric IN (SELECT value FROM json_each(@metrics))');
        // The partial index's own condition, literally: only then may a statement name it.
        if (access === 'narrow') where.push("dim_name <> ''");
        text = `SELECT bucket_start, metric, dim_name, packed FROM rollup_packs${access === 'narrow' ? ' INDEXED BY rollup_packs_by_metric' : ''}
            WHERE ${where.join(' AND ')} ORDER BY bucket_start, metric, dim_name`;
      }
      statement = db.prepare<[Record<string, unknown>], StoredPack>(text).raw();
      packSelects.set(shape, statement);
    }
    return statement;
  }

  const totals = sqliteRollupTotals(db);
  const replaceTx = db.transaction((orgId: string, granularity: Granularity, buckets: ReadonlySet<number>, packs: readonly Pack[]) => {
    const { deleteBucket, deleteLegacyBucket, insertPack, insertPackChunk } = sql();
    for (const bucket of buckets) {
      deleteBucket.run(orgId, granularity, bucket);
      deleteLegacyBucket.run(orgId, granularity, bucket);
    }
    // One parameter array for every chunk, overwritten in place.
    const chunk = new Array<unknown>(PACK_CHUNK * PACK_PARAMS);
    let i = 0;
    for (; i + PACK_CHUNK <= packs.length; i += PACK_CHUNK) {
      for (let j = 0; j < PACK_CHUNK; j++) putPackParams(chunk, j * PACK_PARAMS, orgId, granularity, packs[i + j]!);
      insertPackChunk.run(chunk);
    }
    const one = new Array<unknown>(PACK_PARAMS);
    for (; i < packs.length; i++) {
      putPackParams(one, 0, orgId, granularity, packs[i]!);
      insertPack.run(one);
    }
    totals.replace(orgId, granularity, buckets, packs);
  });

  const deleteAllTx = db.transaction((orgId: string) => {
    sql().deleteOrg.run(orgId);
    totals.removeOrg(orgId);
    sql().deleteLegacyOrg.run(orgId);
    sql().dropOrgFolds.run(orgId);
  });
  // Packs and their buckets' totals go together, or a reader could see one without the other.
  const deleteBeforeTx = db.transaction((granularity: Granularity, cutoff: number): number => {
    const removed = sql().countBefore.get(granularity, cutoff)!;
    sql().deleteBefore.run(granularity, cutoff);
    totals.removeBefore(granularity, cutoff);
    return removed + sql().deleteLegacyBefore.run(granularity, cutoff).changes;
  });
  const putFoldsTx = db.transaction((orgId: string, folds: ReadonlyMap<number, string>, pruneBefore: number) => {
    sql().dropFolds.run(orgId, -Number.MAX_SAFE_INTEGER, pruneBefore);
    for (const [hour, watermark] of folds) sql().putFold.run(orgId, hour, watermark);
  });

  function unpacked(q: RollupQuery, packs: readonly StoredPack[]): RollupRow[] {
    const rows: RollupRow[] = [];
    const filter = { project: q.project, tag: q.tag, mergeScopes: q.mergeScopes };
    for (const [bucketStart, metric, dimName, packed] of packs) unpackRows(q.orgId, q.granularity, { bucketStart, metric, dimName }, packed, filter, rows);
    return rows;
  }
  function legacyParams(q: RollupQuery, params: Record<string, unknown>): Record<string, unknown> {
    if (q.project !== undefined) params['project'] = q.project;
    if (q.tag !== undefined) params['tag'] = q.tag;
    return params;
  }
  /** Buckets not rewritten since migration 050; row-level writes move a key into a pack, so no key is in both tables. */
  function withLegacyRows(rows: RollupRow[], legacy: readonly StoredRollup[]): RollupRow[] {
    if (legacy.length === 0) return rows;
    for (const row of legacy) rows.push(toRollup(row));
    return rows.sort((a, b) => a.bucketStart - b.bucketStart);
  }
  function readPairs(q: RollupQuery): RollupRow[] {
    const pairs = pairsOf(q);
    if (pairs.length === 0) return [];
    const params: Record<string, unknown> = { orgId: q.orgId, granularity: q.granularity, from: q.from, to: q.to };
    const rows = unpacked(q, sql().pairPacks.all({ ...params, pairs: JSON.stringify(pairs.map((pair) => [pair.metric, pair.dimName])) }));
    if (sql().legacyRowsOf.get(q.orgId) === undefined) return rows;
    const byMetric = { ...q, pairs: undefined, metrics: [...new Set(pairs.map((pair) => pair.metric))] };
    const legacy = selectFor(byMetric).all(legacyParams(q, { ...params, metrics: JSON.stringify(byMetric.metrics) }));
    const wanted = pairKeySet(pairs);
    return withLegacyRows(rows, legacy.filter((row) => wanted.has(pairKey(row[3], row[6]))));
  }

  return {
    async replaceBuckets(orgId, granularity, bucketStarts, rows) {
      const buckets = new Set(bucketStarts);
      assertRowsInBuckets(orgId, granularity, buckets, rows);
      if (buckets.size > 0) {
        const packs = packRows(rows);
        withRelaxedCommit(db, () => replaceTx.immediate(orgId, granularity, buckets, packs));
      }
    },
    async readRollups(q) {
      if (q.pairs !== undefined) return readPairs(q);
      if (q.metrics !== undefined && q.metrics.length === 0) return [];
      // Buckets of the pre-packing layout have no totals (ADR 0024): such an org is read pack by pack.
      if (readsTotals(q) && sql().legacyRowsOf.get(q.orgId) === undefined) {
        return totals.read(q.orgId, q.granularity, q.from, q.to, q.metrics === undefined ? null : new Set(q.metrics));
      }
      const params: Record<string, unknown> = { orgId: q.orgId, granularity: q.granularity, from: q.from, to: q.to };
      if (q.metrics !== undefined && q.metrics.length > 0) params['metrics'] = JSON.stringify([...new Set(q.metrics)]);
      if (q.dimName !== undefined && q.dimName !== '') params['dimName'] = q.dimName;
      const rows = unpacked(q, packSelectFor(q).all(params));
      // Most databases hold no row of the pre-packing layout (migration 050) any more: a probe
      // (~4 µs) instead of the filtered read (25–90 µs, several per answer).
      if (sql().legacyRowsOf.get(q.orgId) === undefined) return rows;
      return withLegacyRows(rows, selectFor(q).all(legacyParams(q, params)));
    },
    async rollupMetricNames(orgId) {
      return sql().metricNames.all(orgId, orgId);
    },
    async deleteRollupsBefore(granularity, cutoff) {
      return deleteBeforeTx.immediate(granularity, cutoff);
    },
    async countRollupsBefore(granularity, cutoff) {
      return sql().countBefore.get(granularity, cutoff)! + sql().countLegacyBefore.get(granularity, cutoff)!;
    },
    async deleteAllRollups(orgId) {
      deleteAllTx.immediate(orgId);
    },
    // Fold bookkeeping commits like the rollups it describes: the WAL keeps commits in order, so
    // whatever survives a power loss is a prefix (take, rows, put) and never a fold newer than its rows.
    async takeHourFolds(orgId, hourStarts) {
      if (hourStarts.length === 0) return new Map();
      return withRelaxedCommit(db, () => new Map(sql().takeFolds.all(orgId, JSON.stringify(hourStarts))));
    },
    async putHourFolds(orgId, folds, pruneBefore) {
      withRelaxedCommit(db, () => putFoldsTx.immediate(orgId, folds, pruneBefore));
    },
    async dropHourFolds(orgId, from, to) {
      sql().dropFolds.run(orgId, from, to);
    },

    async tryAcquireLease(name, holder, ttlMs, now) {
      return sql().acquireLease.run(name, holder, now + ttlMs, now).changes > 0;
    },
    async releaseLease(name, holder) {
      sql().releaseLease.run(name, holder);
    },
  };
}
