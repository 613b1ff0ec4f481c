import type { Pool } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { RetentionStore, RollupQuery, RollupReader, RollupWriter } from '../../ports/storage.ts';
import { numberArray, textArray } from './array-literals.ts';
import { inTransaction } from './db.ts';
import { replaceBucketRows } from './rollups-replace.ts';
import { readTotals } from './rollup-totals.ts';
import { readsTotals } from '../rollup-totals.ts';
import { sortRollupRows, unpackAllScopesEntry, unpackRows, type PackKey } from '../rollup-packs.ts';

interface RollupDbRow {
  org_id: string;
  granularity: Granularity;
  bucket_start: number;
  metric: string;
  project: string;
  tag: string;
  dim_name: string;
  dim_value: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch: Buffer | null;
  last_value: number | null;
  last_ts: number | null;
  hll: Buffer | null;
}

const ROLLUP_COLUMNS =
  'org_id, granularity, bucket_start, metric, project, tag, dim_name, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll';

function toRollupRow(row: RollupDbRow): RollupRow {
  return {
    orgId: row.org_id,
    granularity: row.granularity,
    bucketStart: row.bucket_start,
    metric: row.metric,
    project: row.project,
    tag: row.tag,
    dimName: row.dim_name,
    dimValue: row.dim_value,
    count: row.count,
    sum: row.sum,
    min: row.min,
    max: row.max,
    // A plain copy: callers get a Uint8Array they own, not a view into a driver buffer.
    sketch: row.sketch === null ? null : new Uint8Array(row.sketch),
    lastValue: row.last_value,
    lastTs: row.last_ts,
    hll: row.hll === null ? null : new Uint8Array(row.hll),
  };
}

function assertRowsBelong(orgId: string, granularity: Granularity, buckets: ReadonlySet<number>, rows: readonly RollupRow[]): void {
  for (const row of rows) {
    if (row.orgId !== orgId || row.granularity !== granularity || !buckets.has(row.bucketStart)) {
      throw new Error(
        `replaceBuckets(${orgId}, ${granularity}): row ${row.orgId}/${row.granularity}/${row.bucketStart}/${row.metric} lies outside the replaced buckets`,
      );
    }
  }
}

/**
 * Distinct organizations holding rollups, read by hopping along the primary key (one index
 * probe per organization) rather than scanning the table.
 */
async function rollupOrgIds(pool: Pool): Promise<string[]> {
  const ids = new Set<string>();
  for (const table of ['rollup_packs', 'rollups']) {
    const result = await pool.query<{ org_id: string }>(
      `WITH RECURSIVE orgs AS (
         (SELECT org_id FROM ${table} ORDER BY org_id LIMIT 1)
         UNION ALL
         SELECT (SELECT r.org_id FROM ${table} AS r WHERE r.org_id > orgs.org_id ORDER BY r.org_id LIMIT 1)
           FROM orgs WHERE orgs.org_id IS NOT NULL
       )
       SELECT org_id FROM orgs WHERE org_id IS NOT NULL`,
    );
    for (const row of result.rows) ids.add(row.org_id);
  }
  return [...ids].sort();
}

export function createRollupStore(pool: Pool): Omit<RollupReader, 'dimensionReads' | 'readRollupsByKey'> & Omit<RollupWriter, 'writeRollupRows'> & Pick<RetentionStore, 'deleteRollupsBefore' | 'countRollupsBefore'> {
  return {
    async replaceBuckets(orgId, granularity, bucketStarts, rows) {
      const buckets = new Set(bucketStarts);
      assertRowsBelong(orgId, granularity, buckets, rows);
      if (buckets.size === 0) return;
      // Rollups are recomputable and their dirty marks are cleared only by a later durable commit (ADR 0011).
      await inTransaction(pool, (client) => replaceBucketRows(client, orgId, granularity, [...buckets], rows), { durableCommit: false });
    },

    async readRollups(query) {
      if (query.metrics !== undefined && query.metrics.length === 0) return [];
      if (readsTotals(query)) {
        const totals = await readTotals(pool, query);
        if (totals !== null) return totals;
      }
      // Query reads (small, many per answer): packs and legacy rows in one round trip.
      if (query.mergeScopes === true) return readMerging(pool, query);
      const packParams: unknown[] = [query.orgId, query.granularity, query.from, query.to];
      const packFilters: string[] = [];
      if (query.metrics !== undefined) {
        packParams.push(query.metrics);
        packFilters.push(`metric = ANY($${packParams.length}::text[])`);
      }
      if (query.dimName !== undefined) {
        packParams.push(query.dimName);
        packFilters.push(`dim_name = $${packParams.length}`);
      }
      const [packs, legacy] = await Promise.all([
        pool.query<{ bucket_start: number; metric: string; dim_name: string; packed: Buffer }>(
          `SELECT bucket_start, metric, dim_name, packed FROM rollup_packs
            WHERE org_id = $1 AND granularity = $2 AND bucket_start >= $3 AND bucket_start < $4
            ${packFilters.map((filter) => `AND ${filter}`).join(' ')}
            ORDER BY bucket_start, metric, dim_name`,
          packParams,
        ),
        readLegacyRows(pool, query),
      ]);
      const rows: RollupRow[] = [];
      const filter = { project: query.project, tag: query.tag };
      for (const pack of packs.rows) {
        unpackRows(query.orgId, query.granularity, { bucketStart: pack.bucket_start, metric: pack.metric, dimName: pack.dim_name }, pack.packed, filter, rows);
      }
      if (legacy.length === 0) return rows;
      // Buckets not rewritten since migration 050; row-level writes move a key into a pack, so no key is in both tables.
      for (const row of legacy) rows.push(row);
      return rows.sort((a, b) => a.bucketStart - b.bucketStart);
    },

    async rollupMetricNames(orgId) {
      const result = await pool.query<{ metric: string }>(
        'SELECT metric FROM rollup_packs WHERE org_id = $1 UNION SELECT metric FROM rollups WHERE org_id = $1 ORDER BY metric',
        [orgId],
      );
      return result.rows.map((row) => row.metric);
    },

    async deleteRollupsBefore(granularity, cutoff) {
      let removed = 0;
      for (const orgId of await rollupOrgIds(pool)) {
        const result = await pool.query<{ n: number }>(
          // Packs and their buckets' totals in one statement: a reader never sees one without the other.
          `WITH gone AS (DELETE FROM rollup_packs WHERE org_id = $1 AND granularity = $2 AND bucket_start < $3 RETURNING value_count),
                totals AS (DELETE FROM rollup_totals WHERE org_id = $1 AND granularity = $2 AND bucket_start < $3)
           SELECT coalesce(sum(value_count), 0)::bigint AS n FROM gone`,
          [orgId, granularity, cutoff],
        );
        removed += Number(result.rows[0]?.n ?? 0);
        const legacy = await pool.query('DELETE FROM rollups WHERE org_id = $1 AND granularity = $2 AND bucket_start < $3', [orgId, granularity, cutoff]);
        removed += legacy.rowCount ?? 0;
      }
      return removed;
    },

    async countRollupsBefore(granularity, cutoff) {
      let count = 0;
      for (const orgId of await rollupOrgIds(pool)) {
        const result = await pool.query<{ n: number }>(
          `SELECT (SELECT coalesce(sum(value_count), 0) FROM rollup_packs WHERE org_id = $1 AND granularity = $2 AND bucket_start < $3)
                + (SELECT count(*) FROM rollups WHERE org_id = $1 AND granularity = $2 AND bucket_start < $3) AS n`,
          [orgId, granularity, cutoff],
        );
        count += Number(result.rows[0]?.n ?? 0);
      }
      return count;
    },

    async deleteAllRollups(orgId) {
      await inTransaction(pool, async (client) => {
        await client.query('DELETE FROM rollup_packs WHERE org_id = $1', [orgId]);
        await client.query('DELETE FROM rollup_totals WHERE org_id = $1', [orgId]);
        await client.query('DELETE FROM rollups WHERE org_id = $1', [orgId]);
        await client.query('DELETE FROM hour_folds WHERE org_id = $1', [orgId]);
      });
    },

    // Fold bookkeeping commits like the rollups it describes (ADR 0011): WAL is replayed in order,
    // so what survives a crash is a prefix (take, rows, put), never a fold newer than its rows.
    async takeHourFolds(orgId, hourStarts) {
      if (hourStarts.length === 0) return new Map();
      const result = await inTransaction(
        pool,
        (client) =>
          client.query<{ hour_start: number; watermark: string }>(
            'DELETE FROM hour_folds WHERE org_id = $1 AND hour_start = ANY($2::bigint[]) RETURNING hour_start, watermark',
            [orgId, numberArray(hourStarts)],
          ),
        { durableCommit: false },
      );
      return new Map(result.rows.map((row) => [Number(row.hour_start), row.watermark]));
    },
    async putHourFolds(orgId, folds, pruneBefore) {
      const hours = [...folds.keys()];
      await inTransaction(
        pool,
        (client) =>
          client.query(
            `WITH pruned AS (DELETE FROM hour_folds WHERE org_id = $1 AND hour_start < $4 AND hour_start <> ALL($2::bigint[]))
             INSERT INTO hour_folds (org_id, hour_start, watermark)
             SELECT $1, h, w FROM unnest($2::bigint[], $3::text[]) AS u(h, w)
             ON CONFLICT (org_id, hour_start) DO UPDATE SET watermark = EXCLUDED.watermark`,
            [orgId, numberArray(hours), textArray(hours.map((hour) => folds.get(hour)!)), pruneBefore],
          ),
        { durableCommit: false },
      );
    },
    async dropHourFolds(orgId, from, to) {
      await pool.query('DELETE FROM hour_folds WHERE org_id = $1 AND hour_start >= $2 AND hour_start < $3', [orgId, from, to]);
    },
  };
}

/**
 * Bytes of a global pack a merging read fetches first: its all-scopes entry and the scope table
 * before it fit in them for ~99 % of packs (the longest seen: 919 B, month tier; whole day
 * packs run to ~5 KB). PostgreSQL sends bytea as hex text, so the bytes not sent were most of
 * such a read's cost.
 */
const PACK_PREFIX_BYTES = 1024;

/** Whole blobs of the given global packs (one primary-key probe each). */
async function readWholePacks(pool: Pool, query: RollupQuery, keys: readonly PackKey[]) {
  const result = await pool.query<{ bucket_start: number; metric: string; dim_name: string; packed: Buffer }>(
    `SELECT p.bucket_start, p.metric, p.dim_name, p.packed
       FROM unnest($3::bigint[], $4::text[], $5::text[]) AS k(bucket_start, metric, dim_name)
       CROSS JOIN LATERAL (
         SELECT bucket_start, metric, dim_name, packed FROM rollup_packs
          WHERE org_id = $1 AND granularity = $2 AND bucket_start = k.bucket_start AND metric = k.metric AND dim_name = k.dim_name
       ) AS p`,
    [query.orgId, query.granularity, keys.map((k) => k.bucketStart), keys.map((k) => k.metric), keys.map((k) => k.dimName)],
  );
  return result.rows;
}

/**
 * A merging read (queries without a project or tag filter): one statement for packs and
 * legacy rows, and only the front of global packs (see PACK_PREFIX_BYTES).
 */
async function readMerging(pool: Pool, query: RollupQuery): Promise<RollupRow[]> {
  // A merging global read needs only each pack's all-scopes entry, which comes first (ADR 0013).
  const prefixOnly = query.dimName === '';
  const { text, values } = packsAndLegacyQuery(query, prefixOnly);
  const result = await pool.query<PackOrLegacyRow>(text, values);
  const rows: RollupRow[] = [];
  const filter = { project: query.project, tag: query.tag, mergeScopes: true };
  const cut: PackKey[] = [];
  let legacyRows = 0;
  for (const row of result.rows) {
    if (row.packed === null) {
      // Buckets not rewritten since migration 050; row-level writes move a key into a pack, so no key is in both tables.
      rows.push(toRollupRow({ ...row, org_id: query.orgId, granularity: query.granularity }));
      legacyRows += 1;
      continue;
    }
    const key = { bucketStart: row.bucket_start, metric: row.metric, dimName: row.dim_name };
    if (!prefixOnly || row.size <= PACK_PREFIX_BYTES) unpackRows(query.orgId, query.granularity, key, row.packed, filter, rows);
    else if (!unpackAllScopesEntry(query.orgId, query.granularity, key, row.packed, rows)) cut.push(key);
  }
  if (cut.length > 0) {
    for (const pack of await readWholePacks(pool, query, cut)) {
      unpackRows(query.orgId, query.granularity, { bucketStart: pack.bucket_start, metric: pack.metric, dimName: pack.dim_name }, pack.packed, filter, rows);
    }
    sortRollupRows(rows);
  }
  return legacyRows === 0 ? rows : rows.sort((a, b) => a.bucketStart - b.bucketStart);
}

/** A pack (`packed` set) or a row of the pre-packing layout (migration 050, `packed` null). */
type PackOrLegacyRow = Omit<RollupDbRow, 'org_id' | 'granularity'> & { packed: Buffer | null; size: number };

/**
 * Packs and rows of the pre-packing layout (migration 050, still read until their bucket is
 * rewritten) in one statement: one round trip per read instead of two, and a dashboard makes
 * a dozen reads. Pack rows leave the legacy columns null; legacy rows leave `packed` null.
 */
function packsAndLegacyQuery(query: RollupQuery, prefixOnly: boolean): { text: string; values: unknown[] } {
  // No project or tag filter: a merging read has none (the port's rule; unpackRows checks it).
  const { values, filters: both } = rollupFilters(query, false);
  const range = 'org_id = $1 AND granularity = $2 AND bucket_start >= $3 AND bucket_start < $4';
  const and = (filters: readonly string[]) => filters.map((filter) => ` AND ${filter}`).join('');
  const packed = prefixOnly ? `substring(packed FROM 1 FOR ${PACK_PREFIX_BYTES}) AS packed, octet_length(packed) AS size` : 'packed, 0 AS size';
  return {
    text: `SELECT * FROM (
             SELECT bucket_start, metric, dim_name, ${packed},
                    NULL AS project, NULL AS tag, NULL AS dim_value, NULL::bigint AS count, NULL::float8 AS sum, NULL::float8 AS min,
                    NULL::float8 AS max, NULL::bytea AS sketch, NULL::float8 AS last_value, NULL::bigint AS last_ts, NULL::bytea AS hll
               FROM rollup_packs WHERE ${range}${and(both)}
             UNION ALL
             SELECT bucket_start, metric, dim_name, NULL, 0,
                    project, tag, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll
               FROM rollups WHERE ${range}${and(both)}
           ) AS stored
           ORDER BY bucket_start, metric, dim_name`,
    values,
  };
}

/**
 * The range of a rollup read as $1–$4 and its filters as `column = $n` terms after them; packs
 * are filtered by project and tag while decoding, so only rows of the old layout take them.
 */
function rollupFilters(query: RollupQuery, projectAndTag: boolean): { values: unknown[]; filters: string[] } {
  const values: unknown[] = [query.orgId, query.granularity, query.from, query.to];
  const filters: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    filters.push(sql(`$${values.length}`));
  };
  // One metric as a plain equality: PostgreSQL then seeks it inside the primary key, where
  // `= ANY(array)` after the bucket range is only a filter over every metric's packs.
  if (query.metrics !== undefined && query.metrics.length === 1) add((p) => `metric = ${p}`, query.metrics[0]);
  else if (query.metrics !== undefined) add((p) => `metric = ANY(${p}::text[])`, query.metrics);
  if (projectAndTag && query.project !== undefined) add((p) => `project = ${p}`, query.project);
  if (projectAndTag && query.tag !== undefined) add((p) => `tag = ${p}`, query.tag);
  if (query.dimName !== undefined) add((p) => `dim_name = ${p}`, query.dimName);
  return { values, filters };
}

/** Rows of the pre-packing layout (migration 050), still read until their bucket is rewritten. */
async function readLegacyRows(pool: Pool, query: RollupQuery): Promise<RollupRow[]> {
  const { values, filters } = rollupFilters(query, true);
  const result = await pool.query<RollupDbRow>(
    `SELECT ${ROLLUP_COLUMNS} FROM rollups
      WHERE org_id = $1 AND granularity = $2 AND bucket_start >= $3 AND bucket_start < $4
      ${filters.map((filter) => `AND ${filter}`).join(' ')}
      ORDER BY bucket_start, metric, project, tag, dim_name, dim_value`,
    values,
  );
  return result.rows.map(toRollupRow);
}
