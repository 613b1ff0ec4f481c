import type { SourcePullRecord, SourceStatus } from '../ports.ts';

/** The source_status row shape both engines return (bigints already numbers). */
export interface SourceStatusRow {
  source: string;
  last_pull_at: number | null;
  last_success_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  consecutive_failures: number;
  rows_read: number;
  events_accepted: number;
  events_rejected: number;
  rows_skipped: number;
  last_rejection: string | null;
  newest_change_us: number | null;
}

const n = (value: number | string | null): number | null => (value === null ? null : Number(value));

export function toSourceStatus(row: SourceStatusRow): SourceStatus {
  return {
    source: row.source,
    lastPullAt: n(row.last_pull_at),
    lastSuccessAt: n(row.last_success_at),
    lastError: row.last_error,
    lastErrorAt: n(row.last_error_at),
    consecutiveFailures: Number(row.consecutive_failures),
    rowsRead: Number(row.rows_read),
    eventsAccepted: Number(row.events_accepted),
    eventsRejected: Number(row.events_rejected),
    rowsSkipped: Number(row.rows_skipped),
    lastRejection: row.last_rejection,
    newestChangeUs: n(row.newest_change_us),
  };
}

/**
 * One upsert for both engines (SQLite ≥ 3.24 and PostgreSQL share ON CONFLICT … excluded):
 * counts add up, success clears the error streak, a failure keeps the last success.
 * Parameters: source, at, ok (1/0), rows, accepted, rejected, skipped, error, rejection, newest change.
 */
export const RECORD_PULL_SQL = (p: (i: number) => string) => `
  INSERT INTO source_status (source, last_pull_at, last_success_at, last_error, last_error_at, consecutive_failures,
                             rows_read, events_accepted, events_rejected, rows_skipped, last_rejection, newest_change_us)
  VALUES (${p(1)}, ${p(2)}, CASE WHEN ${p(3)} = 1 THEN ${p(2)} END, ${p(8)}, CASE WHEN ${p(3)} = 1 THEN NULL ELSE ${p(2)} END,
          CASE WHEN ${p(3)} = 1 THEN 0 ELSE 1 END, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(9)}, ${p(10)})
  ON CONFLICT (source) DO UPDATE SET
    last_pull_at = excluded.last_pull_at,
    last_success_at = COALESCE(excluded.last_success_at, source_status.last_success_at),
    last_error = CASE WHEN ${p(3)} = 1 THEN source_status.last_error ELSE excluded.last_error END,
    last_error_at = CASE WHEN ${p(3)} = 1 THEN source_status.last_error_at ELSE excluded.last_error_at END,
    consecutive_failures = CASE WHEN ${p(3)} = 1 THEN 0 ELSE source_status.consecutive_failures + 1 END,
    rows_read = source_status.rows_read + excluded.rows_read,
    events_accepted = source_status.events_accepted + excluded.events_accepted,
    events_rejected = source_status.events_rejected + excluded.events_rejected,
    rows_skipped = source_status.rows_skipped + excluded.rows_skipped,
    last_rejection = COALESCE(excluded.last_rejection, source_status.last_rejection),
    newest_change_us = CASE
      WHEN source_status.newest_change_us IS NULL THEN excluded.newest_change_us
      WHEN excluded.newest_change_us IS NULL THEN source_status.newest_change_us
      WHEN excluded.newest_change_us > source_status.newest_change_us THEN excluded.newest_change_us
      ELSE source_status.newest_change_us END`;

export function recordPullParams(record: SourcePullRecord): unknown[] {
  return [
    record.source,
    record.at,
    record.ok ? 1 : 0,
    record.rowsRead,
    record.accepted,
    record.rejected,
    record.skipped,
    record.error,
    record.lastRejection,
    record.newestChangeUs,
  ];
}

export const ADVANCE_CURSOR_SQL = (p: (i: number) => string) => `
  INSERT INTO source_cursors (source, table_key, change_us, row_key, updated_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
  ON CONFLICT (source, table_key) DO UPDATE SET change_us = excluded.change_us, row_key = excluded.row_key, updated_at = excluded.updated_at
  WHERE excluded.change_us > source_cursors.change_us
     OR (excluded.change_us = source_cursors.change_us AND excluded.row_key > source_cursors.row_key)`;

export const RECORD_SNAPSHOT_SQL = (p: (i: number) => string) => `
  INSERT INTO source_snapshots (source, snapshot, period_start, value, recorded_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
  ON CONFLICT (source, snapshot) DO UPDATE SET period_start = excluded.period_start, value = excluded.value, recorded_at = excluded.recorded_at
  WHERE excluded.period_start >= source_snapshots.period_start`;
