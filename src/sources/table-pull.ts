import type { AttributeValue, Attributes } from '../domain/event.ts';

/**
 * How one source table is read incrementally (pure: SQL text and row mapping, no I/O).
 *
 * A table's base query yields one row per source row with at least:
 *   row_key   text         the primary key, the tie-breaker of the cursor
 *   change_at timestamptz  moves whenever the row (or what its event depends on) changes
 *   event_at  text         the event timestamp (ISO 8601, UTC, milliseconds)
 *   source_org text        the source organization id (NULL when the source maps to one `org`)
 * plus the columns `toEvent` reads.
 */
export interface TablePull {
  /** Cursor key, unique within the source (e.g. `usage`). */
  key: string;
  eventType: string;
  baseSql: string;
  /** Attributes of the event (nulls dropped later); null skips the row. */
  toAttributes(row: SourceRow): Attributes | null;
}

export type SourceRow = Record<string, unknown>;

/** Position in a table: rows after (changeUs, rowKey) are new. Microseconds keep PostgreSQL's precision. */
export interface Cursor {
  changeUs: number;
  rowKey: string;
}

export const ISO_UTC_MS = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Keyset page over a base query: $1 lower bound (timestamptz text), $2/$3 the cursor, $4 the page size. */
export function keysetSql(baseSql: string): string {
  return `SELECT q.* FROM (
    SELECT b.*, floor(extract(epoch FROM b.change_at) * 1000000)::bigint AS change_us
      FROM (${baseSql}) AS b
     WHERE b.change_at >= $1::timestamptz
  ) AS q
  WHERE q.change_us > $2::bigint OR (q.change_us = $2::bigint AND q.row_key COLLATE "C" > $3::text)
  ORDER BY q.change_us, q.row_key COLLATE "C"
  LIMIT $4`;
}

/** Rows a keyset pull starting at $1 will read (for the progress bar of a first pull). */
export function countSql(baseSql: string): string {
  return `SELECT count(*)::bigint AS n FROM (${baseSql}) AS b WHERE b.change_at >= $1::timestamptz`;
}

export function keysetParams(from: Cursor, pageSize: number): unknown[] {
  return [lowerBoundText(from.changeUs), from.changeUs, from.rowKey, pageSize];
}

/** The instant of a cursor floored to the millisecond: a loose, inclusive bound the keyset then narrows. */
export function lowerBoundText(changeUs: number): string {
  return new Date(Math.floor(changeUs / 1000)).toISOString();
}

export function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/** Driver values to flat event attributes: dates as ISO text, JSON as text, bigints as numbers. */
export function toAttributeValue(value: unknown): AttributeValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

export function text(row: SourceRow, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  const result = typeof value === 'string' ? value : String(value);
  return result === '' ? null : result;
}

export function num(row: SourceRow, column: string): number | null {
  const value = row[column];
  if (value === null || value === undefined || value === '') return null;
  const result = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(result) ? result : null;
}
