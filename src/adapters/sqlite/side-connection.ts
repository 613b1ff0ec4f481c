import Database from 'better-sqlite3';

/**
 * A feature's own connection to the embedded database file (alerts, reports, source state),
 * beside the storage connection: WAL lets them share the file. Opened on first use, because
 * most processes (CLI commands, tests, benchmarks) never touch those tables.
 */
export interface SideConnection {
  /** The open connection; opens it on first use (and again after `close`). */
  get(): Database.Database;
  close(): void;
}

export function lazySideConnection(file: string): SideConnection {
  let connection: Database.Database | undefined;
  return {
    get() {
      if (connection === undefined) {
        connection = new Database(file, { timeout: 15_000 });
        connection.pragma('journal_mode = WAL');
        // Same durability as the storage connection: a written row survives a power loss.
        connection.pragma('synchronous = FULL');
      }
      return connection;
    },
    close() {
      if (connection?.open) connection.close();
      connection = undefined;
    },
  };
}
