import type { Pool } from 'pg';
import type { Granularity, RollupRow } from '../../domain/rollup-types.ts';
import type { RollupQuery } from '../../ports/storage.ts';
import { numberArray, textArray } from './array-literals.ts';
import { rollupFilters, toRollupRow, type RollupDbRow } from './rollup-db-row.ts';
import { readsTotals } from '../rollup-totals.ts';
import { readTotals } from './rollup-totals.ts';
import { sortRollupRows, unpackAllScopesEntry, unpackRows, type PackKey } from '../rollup-packs.ts';

/**
 * Merging reads (queries without a project or tag filter, ADR 0013) on PostgreSQL. An answer
 * asks for several at once — a breakdown one per tier of its range, a dashboard seven — and
 * each statement of its own cost a round trip, a parse and a plan on a backend of its own
 * (0.5–1.2 ms each, all competing for the same cores). Reads started in the same turn of the
 * event loop are therefore sent together: one statement for those that read bucket totals
 * (ADR 0024), one for those that read packs, each read a row of `unnest` arrays joined
 * laterally to a primary-key range scan (ADR 0025). Every read still gets exactly the rows it
 * would get alone.
 */

/**
 * Bytes of a global pack a merging read fetches first: its all-scopes entry and the scope table
 * before it fit in them for ~99 % of packs (the longest seen: 919 B, month tier; whole day
 * packs run to ~5 KB). PostgreSQL sends bytea as hex text, so the bytes not sent were most of
 * such a read's cost.
 */
const PACK_PREFIX_BYTES = 1024;

/** A pack (`packed` set) or a row of the pre-packing layout (migration 050, `packed` null). */
type PackOrLegacyRow = Omit<RollupDbRow, 'org_id' | 'granularity'> & { packed: Buffer | null; size: number };

interface PendingRead {
  query: RollupQuery;
  resolve(rows: RollupRow[]): void;
  reject(error: unknown): void;
}

export type MergingReader = (query: RollupQuery) => Promise<RollupRow[]>;

/** Reads with `mergeScopes`; see the module comment. */
export function createMergingReader(pool: Pool): MergingReader {
  let pending: PendingRead[] = [];

  const flush = (): void => {
    const batch = pending;
    pending = [];
    const settle = (reads: readonly PendingRead[], work: Promise<RollupRow[][]>) =>
      work.then(
        (answers) => reads.forEach((read, i) => read.resolve(answers[i]!)),
        (error: unknown) => reads.forEach((read) => read.reject(error)),
      );
    // A microtask that throws would take the process down: whatever goes wrong rejects the reads instead.
    try {
      const kinds = { totals: [] as PendingRead[], packs: [] as PendingRead[], alone: [] as PendingRead[] };
      for (const read of batch) kinds[readKind(read.query)].push(read);
      const { totals, packs, alone } = kinds;
      if (totals.length > 0) void settle(totals, readTotalsOrPacks(pool, totals.map((read) => read.query)));
      if (packs.length > 0) void settle(packs, readPacksBatch(pool, packs.map((read) => read.query)));
      for (const read of alone) void settle([read], readPacksAlone(pool, read.query).then((rows) => [rows]));
    } catch (error) {
      for (const read of batch) read.reject(error);
    }
  };

  return (query) =>
    new Promise<RollupRow[]>((resolve, reject) => {
      if (pending.length === 0) queueMicrotask(flush);
      pending.push({ query, resolve, reject });
    });
}

/** Totals where they cover the read's org; packs where it still has rows of the pre-packing layout. */
async function readTotalsOrPacks(pool: Pool, queries: readonly RollupQuery[]): Promise<RollupRow[][]> {
  const totals = await readTotals(pool, queries);
  return Promise.all(totals.map((rows, i) => rows ?? readPacksAlone(pool, queries[i]!)));
}

/**
 * Bucket totals (ADR 0024); packs of named metrics of one dimension (or of none), each (read,
 * metric) a primary-key seek in one statement; or, for every metric or every dimension, alone.
 */
function readKind(query: RollupQuery): 'totals' | 'packs' | 'alone' {
  if (readsTotals(query)) return 'totals';
  return query.metrics !== undefined && query.metrics.length > 0 && query.dimName !== undefined ? 'packs' : 'alone';
}

const PACK_OR_LEGACY_COLUMNS = (packed: string) => `bucket_start, metric, dim_name, ${packed},
  NULL AS project, NULL AS tag, NULL AS dim_value, NULL::bigint AS count, NULL::float8 AS sum, NULL::float8 AS min,
  NULL::float8 AS max, NULL::bytea AS sketch, NULL::float8 AS last_value, NULL::bigint AS last_ts, NULL::bytea AS hll`;
const LEGACY_COLUMNS = 'bucket_start, metric, dim_name, NULL, 0, project, tag, dim_value, count, sum, min, max, sketch, last_value, last_ts, hll';

/** Packs and legacy rows of every (read, metric), in one statement; each read's rows in readPacksAlone's order. */
async function readPacksBatch(pool: Pool, queries: readonly RollupQuery[]): Promise<RollupRow[][]> {
  const seeks = queries.flatMap((query, read) => [...new Set(query.metrics)].map((metric) => ({ query, read, metric })));
  const range = `org_id = s.org_id COLLATE "C" AND granularity = s.granularity COLLATE "C" AND bucket_start >= s.range_from
    AND bucket_start < s.range_to AND metric = s.metric COLLATE "C" AND dim_name = s.dim_name COLLATE "C"`;
  const result = await pool.query<PackOrLegacyRow & { read: number }>(
    `SELECT s.read, x.*
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::int[])
         AS s(org_id, granularity, range_from, range_to, metric, dim_name, read)
       CROSS JOIN LATERAL (
         SELECT ${PACK_OR_LEGACY_COLUMNS(`CASE WHEN s.dim_name = '' THEN substring(packed FROM 1 FOR ${PACK_PREFIX_BYTES}) ELSE packed END AS packed,
                CASE WHEN s.dim_name = '' THEN octet_length(packed) ELSE 0 END AS size`)}
           FROM rollup_packs WHERE ${range}
         UNION ALL
         SELECT ${LEGACY_COLUMNS} FROM rollups WHERE ${range}
       ) AS x
      ORDER BY s.read, x.bucket_start, x.metric, x.dim_name`,
    [
      textArray(seeks.map((s) => s.query.orgId)),
      textArray(seeks.map((s) => s.query.granularity)),
      numberArray(seeks.map((s) => s.query.from)),
      numberArray(seeks.map((s) => s.query.to)),
      textArray(seeks.map((s) => s.metric)),
      textArray(seeks.map((s) => s.query.dimName!)),
      numberArray(seeks.map((s) => s.read)),
    ],
  );
  const byRead = queries.map((): PackOrLegacyRow[] => []);
  for (const row of result.rows) byRead[row.read]!.push(row);
  return Promise.all(queries.map((query, read) => mergingRows(pool, query, byRead[read]!)));
}

/** A merging read that cannot be batched (every metric, or every dimension): a statement of its own. */
async function readPacksAlone(pool: Pool, query: RollupQuery): Promise<RollupRow[]> {
  // No project or tag filter: a merging read has none (the port's rule; unpackRows checks it).
  const { values, filters } = rollupFilters(query, false);
  const where = `org_id = $1 AND granularity = $2 AND bucket_start >= $3 AND bucket_start < $4${filters.map((filter) => ` AND ${filter}`).join('')}`;
  const packed = query.dimName === '' ? `substring(packed FROM 1 FOR ${PACK_PREFIX_BYTES}) AS packed, octet_length(packed) AS size` : 'packed, 0 AS size';
  const result = await pool.query<PackOrLegacyRow>(
    `SELECT * FROM (
       SELECT ${PACK_OR_LEGACY_COLUMNS(packed)} FROM rollup_packs WHERE ${where}
       UNION ALL
       SELECT ${LEGACY_COLUMNS} FROM rollups WHERE ${where}
     ) AS stored
     ORDER BY bucket_start, metric, dim_name`,
    values,
  );
  return mergingRows(pool, query, result.rows);
}

/**
 * A merging read's rows from its stored packs and legacy rows (ordered by bucket, metric,
 * dimension). A global read fetched only each pack's front (PACK_PREFIX_BYTES), which holds
 * its all-scopes entry; the few packs whose entry lies beyond it are read whole.
 */
async function mergingRows(pool: Pool, query: RollupQuery, stored: readonly PackOrLegacyRow[]): Promise<RollupRow[]> {
  const prefixOnly = query.dimName === '';
  const rows: RollupRow[] = [];
  const filter = { project: query.project, tag: query.tag, mergeScopes: true };
  const cut: PackKey[] = [];
  let legacyRows = 0;
  for (const row of stored) {
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
    for (const pack of await readWholePacks(pool, query.orgId, query.granularity, cut)) {
      unpackRows(query.orgId, query.granularity, { bucketStart: pack.bucket_start, metric: pack.metric, dimName: pack.dim_name }, pack.packed, filter, rows);
    }
    sortRollupRows(rows);
  }
  return legacyRows === 0 ? rows : rows.sort((a, b) => a.bucketStart - b.bucketStart);
}

/** Whole blobs of the given global packs (one primary-key probe each). */
async function readWholePacks(pool: Pool, orgId: string, granularity: Granularity, keys: readonly PackKey[]) {
  const result = await pool.query<{ bucket_start: number; metric: string; dim_name: string; packed: Buffer }>(
    `SELECT p.bucket_start, p.metric, p.dim_name, p.packed
       FROM unnest($3::bigint[], $4::text[], $5::text[]) AS k(bucket_start, metric, dim_name)
       CROSS JOIN LATERAL (
         SELECT bucket_start, metric, dim_name, packed FROM rollup_packs
          WHERE org_id = $1 AND granularity = $2 AND bucket_start = k.bucket_start AND metric = k.metric AND dim_name = k.dim_name
       ) AS p`,
    [orgId, granularity, keys.map((k) => k.bucketStart), keys.map((k) => k.metric), keys.map((k) => k.dimName)],
  );
  return result.rows;
}
