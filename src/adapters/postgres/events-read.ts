import type { Pool } from 'pg';
import type { Attributes, StoredEvent } from '../../domain/event.ts';
import type { EventScan, FoldedEvent } from '../../ports/storage.ts';
import { inTransaction } from './db.ts';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-rows.ts';

/** The columns a fold reads, in the order of FOLD_COLUMNS. */
type FoldRow = [type: string, ts: number, project: string, tag: string, attrs: Attributes];
const FOLD_COLUMNS = 'type, ts, project, tag, attrs';

/** The scan's statement: non-superseded events of [from, to) with the optional filters, ordered by (ts, id). */
function scanQuery(scan: EventScan, columns = EVENT_COLUMNS): { text: string; values: unknown[] } {
  const params: unknown[] = [scan.orgId, scan.from, scan.to];
  const filters: string[] = [];
  if (scan.types !== undefined) {
    params.push(scan.types);
    filters.push(`type = ANY($${params.length}::text[])`);
  }
  if (scan.project !== undefined) {
    params.push(scan.project);
    filters.push(`project = $${params.length}`);
  }
  if (scan.tag !== undefined) {
    params.push(scan.tag);
    filters.push(`tag = $${params.length}`);
  }
  return {
    text: `SELECT ${columns} FROM events
            WHERE org_id = $1 AND ts >= $2 AND ts < $3 AND NOT superseded
            ${filters.map((filter) => `AND ${filter}`).join(' ')}
            ORDER BY ts, id`,
    values: params,
  };
}

export async function scanEvents(pool: Pool, scan: EventScan): Promise<StoredEvent[]> {
  const result = await pool.query<EventRow>({ ...scanQuery(scan), rowMode: 'array' });
  return result.rows.map(toStoredEvent);
}

/** Rows per FETCH: large enough that round trips do not dominate, small enough to stay a few MB. */
export const SCAN_BATCH_ROWS = 2_000;

/**
 * The scan through a server-side cursor in one read-only transaction: one snapshot, and the
 * process holds one batch of rows at a time. A throwing `visit` rolls the transaction back,
 * which closes the cursor.
 */
export async function forEachEvent(pool: Pool, scan: EventScan, visit: (event: FoldedEvent) => void): Promise<number> {
  if (scan.types !== undefined && scan.types.length === 0) return 0;
  const query = scanQuery(scan, FOLD_COLUMNS);
  const event = { orgId: scan.orgId, type: '', ts: 0, project: '', tag: '', attrs: {} as Attributes };
  return inTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION READ ONLY');
    await client.query({ text: `DECLARE event_scan NO SCROLL CURSOR FOR ${query.text}`, values: query.values });
    let visited = 0;
    for (;;) {
      const batch = await client.query<FoldRow>({ text: `FETCH ${SCAN_BATCH_ROWS} FROM event_scan`, rowMode: 'array' });
      for (const row of batch.rows) {
        [event.type, event.ts, event.project, event.tag, event.attrs] = row;
        visit(event);
      }
      visited += batch.rows.length;
      if (batch.rows.length < SCAN_BATCH_ROWS) return visited;
    }
  });
}

/** An empty `types` list means every type. */
export async function recentEvents(pool: Pool, orgId: string, types: readonly string[], limit: number): Promise<StoredEvent[]> {
  const result = await pool.query<EventRow>({
    text: `SELECT ${EVENT_COLUMNS} FROM events
            WHERE org_id = $1 AND NOT superseded AND (cardinality($2::text[]) = 0 OR type = ANY($2::text[]))
            ORDER BY ts DESC, received_at DESC, id DESC
            LIMIT $3`,
    values: [orgId, types, limit],
    rowMode: 'array',
  });
  return result.rows.map(toStoredEvent);
}

/** Every stored event, superseded ones included (each `(org, id)` counts once). */
export async function countEvents(pool: Pool, orgId?: string): Promise<number> {
  const result =
    orgId === undefined
      ? await pool.query<{ n: number }>('SELECT count(*)::bigint AS n FROM events')
      : await pool.query<{ n: number }>('SELECT count(*)::bigint AS n FROM events WHERE org_id = $1', [orgId]);
  return result.rows[0]?.n ?? 0;
}

export async function eventTimestampsRange(pool: Pool, orgId: string): Promise<{ min: number; max: number } | null> {
  const result = await pool.query<{ min: number | null; max: number | null }>(
    'SELECT min(ts) AS min, max(ts) AS max FROM events WHERE org_id = $1',
    [orgId],
  );
  const row = result.rows[0];
  if (row === undefined || row.min === null || row.max === null) return null;
  return { min: row.min, max: row.max };
}

export async function countEventsBefore(pool: Pool, cutoff: number): Promise<number> {
  const result = await pool.query<{ n: number }>('SELECT count(*)::bigint AS n FROM events WHERE ts < $1', [cutoff]);
  return result.rows[0]?.n ?? 0;
}
