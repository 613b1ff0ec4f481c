import type { Pool } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { RetentionStore, RollupQuery, RollupReader, RollupWriter } from '../../ports/storage.ts';
import { numberArray, textArray } from './array-literals.ts';
import { inTransaction } from './db.ts';
import { replaceBucketRows } from './rollups-replace.ts';
import { createMergingReader } from './rollup-merging-reads.ts';
import { rollupFilters, ROLLUP_COLUMNS, toRollupRow, type RollupDbRow } from './rollup-db-row.ts';
import { unpackRows } from '../rollup-packs.ts';
import { byPack, pairsOf } from '../rollup-pairs.ts';

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

export function createRollupStore(pool: Pool): Omit<RollupReader, 'readRollupsByKey'> & Omit<RollupWriter, 'writeRollupRows'> & Pick<RetentionStore, 'deleteRollupsBefore' | 'countRollupsBefore'> {
  const readMerging = createMergingReader(pool);
  const store: ReturnType<typeof createRollupStore> = {
    async replaceBuckets(orgId, granularity, bucketStarts, rows) {
      const buckets = new Set(bucketStarts);
      assertRowsBelong(orgId, granularity, buckets, rows);
      if (buckets.size === 0) return;
      // Rollups are recomputable and their dirty marks are cleared only by a later durable commit (ADR 0011).
      await inTransaction(pool, (client) => replaceBucketRows(client, orgId, granularity, [...buckets], rows), { durableCommit: false });
    },

    async readRollups(query) {
      if (query.pairs !== undefined) {
        // One read per pair: merging ones started together go out as one statement (ADR 0025).
        const answers = await Promise.all(pairsOf(query).map((pair) => store.readRollups({ ...query, pairs: undefined, metrics: [pair.metric], dimName: pair.dimName })));
        return answers.flat().sort(byPack);
      }
      if (query.metrics !== undefined && query.metrics.length === 0) return [];
      // Query reads (small, many per answer): batched, packs and legacy rows in one round trip.
      if (query.mergeScopes === true) return readMerging(query);
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
  return store;
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
