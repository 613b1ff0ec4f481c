import { createPool, type PostgresOptions } from '../../adapters/postgres/db.ts';
import type { SourceStateStore } from '../ports.ts';
import { ADVANCE_CURSOR_SQL, RECORD_PULL_SQL, RECORD_SNAPSHOT_SQL, recordPullParams, toSourceStatus, type SourceStatusRow } from './status-rows.ts';

/** Parameter types of RECORD_PULL_SQL: a parameter used in several places needs one stated type. */
const RECORD_PULL_TYPES = ['text', 'bigint', 'int', 'bigint', 'bigint', 'bigint', 'bigint', 'text', 'text', 'bigint'];

/** Source state on meterboard's PostgreSQL database (a small pool of its own, same schema as storage). */
export function createPostgresSourceState(options: PostgresOptions): SourceStateStore {
  const pool = createPool({ ...options, maxConnections: options.maxConnections ?? 2 });
  const p = (i: number) => `$${i}`;
  let closed = false;
  return {
    async getCursor(source, table) {
      const { rows } = await pool.query<{ change_us: number; row_key: string }>(
        'SELECT change_us, row_key FROM source_cursors WHERE source = $1 AND table_key = $2',
        [source, table],
      );
      const row = rows[0];
      return row === undefined ? null : { changeUs: Number(row.change_us), rowKey: row.row_key };
    },
    async advanceCursor(source, table, cursor, now) {
      await pool.query(ADVANCE_CURSOR_SQL(p), [source, table, cursor.changeUs, cursor.rowKey, now]);
    },
    async recordPull(record) {
      // Untyped parameters in CASE need a type: ok is compared as an integer.
      await pool.query(RECORD_PULL_SQL((i) => `$${i}::${RECORD_PULL_TYPES[i - 1]}`), recordPullParams(record));
    },
    async listStatus() {
      const { rows } = await pool.query<SourceStatusRow>('SELECT * FROM source_status ORDER BY source');
      return rows.map(toSourceStatus);
    },
    async lastSnapshotPeriod(source, snapshot) {
      const { rows } = await pool.query<{ period_start: number }>(
        'SELECT period_start FROM source_snapshots WHERE source = $1 AND snapshot = $2',
        [source, snapshot],
      );
      return rows[0] === undefined ? null : Number(rows[0].period_start);
    },
    async recordSnapshot(source, snapshot, periodStart, value, now) {
      await pool.query(RECORD_SNAPSHOT_SQL(p), [source, snapshot, periodStart, value, now]);
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
