import type Database from 'better-sqlite3';
import { lazySideConnection } from '../../adapters/sqlite/side-connection.ts';
import { join } from 'node:path';
import type { SourceStateStore } from '../ports.ts';
import type { Cursor } from '../table-pull.ts';
import { ADVANCE_CURSOR_SQL, RECORD_PULL_SQL, RECORD_SNAPSHOT_SQL, recordPullParams, toSourceStatus, type SourceStatusRow } from './status-rows.ts';

const SQLITE_FILE_NAME = 'meterboard.db';

/**
 * Source state on the embedded database: a connection of its own to meterboard.db (WAL lets it
 * share the file with the storage connection). The tables exist once storage has migrated.
 */
export function createSqliteSourceState(options: { dataDir: string } | { file: string }): SourceStateStore {
  const file = 'file' in options ? options.file : join(options.dataDir, SQLITE_FILE_NAME);
  const connection = lazySideConnection(file);
  let closed = false;
  const db = (): Database.Database => {
    if (closed) throw new Error('source state is closed');
    return connection.get();
  };
  // better-sqlite3 binds repeated parameters by name only.
  const p = (i: number) => `@p${i}`;
  const named = (values: readonly unknown[]) => Object.fromEntries(values.map((value, i) => [`p${i + 1}`, value]));
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db().prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  return {
    async getCursor(source, table) {
      const row = prepare('SELECT change_us, row_key FROM source_cursors WHERE source = ? AND table_key = ?').get(source, table) as
        | { change_us: number; row_key: string }
        | undefined;
      return row === undefined ? null : { changeUs: Number(row.change_us), rowKey: row.row_key };
    },
    async advanceCursor(source, table, cursor: Cursor, now) {
      prepare(ADVANCE_CURSOR_SQL(p)).run(named([source, table, cursor.changeUs, cursor.rowKey, now]));
    },
    async recordPull(record) {
      prepare(RECORD_PULL_SQL(p)).run(named(recordPullParams(record)));
    },
    async listStatus() {
      const rows = prepare('SELECT * FROM source_status ORDER BY source').all() as SourceStatusRow[];
      return rows.map(toSourceStatus);
    },
    async lastSnapshotPeriod(source, snapshot) {
      const row = prepare('SELECT period_start FROM source_snapshots WHERE source = ? AND snapshot = ?').get(source, snapshot) as
        | { period_start: number }
        | undefined;
      return row === undefined ? null : Number(row.period_start);
    },
    async recordSnapshot(source, snapshot, periodStart, value, now) {
      prepare(RECORD_SNAPSHOT_SQL(p)).run(named([source, snapshot, periodStart, value, now]));
    },
    async close() {
      if (closed) return;
      closed = true;
      connection.close();
    },
  };
}
