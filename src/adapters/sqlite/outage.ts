import { errorCodeAndMessage } from '../outage.ts';

/**
 * better-sqlite3 errors meaning "the database file cannot serve now": busy or locked beyond
 * the busy timeout, cannot open, I/O error, disk full, read-only file system.
 */
const OUTAGE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY)/;
/** A closed connection throws a TypeError without a code. */
const CLOSED = /The database connection is not open/;

export function isSqliteOutage(error: unknown): boolean {
  const { code, message } = errorCodeAndMessage(error);
  return (code !== undefined && OUTAGE_CODES.test(code)) || CLOSED.test(message);
}
