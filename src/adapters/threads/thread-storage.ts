import type { Storage } from '../../ports/storage.ts';
import { createPostgresStorage } from '../postgres/postgres-storage.ts';
import { createSqliteStorage } from '../sqlite/sqlite-storage.ts';
import type { StorageLocation } from '../storage-location.ts';

/**
 * An aggregation thread's own connection to the aggregating process's database (ADR 0016).
 * Small on purpose: the thread reads its days' events once and writes their rows, so a large
 * page cache would only add to the process's resident size (the 300 MB goal counts every
 * thread); PostgreSQL needs one connection for the event stream and one for the write in flight.
 */
export const THREAD_SQLITE_CACHE_KIB = 8_192;
const THREAD_PG_CONNECTIONS = 2;

export function openThreadStorage(location: StorageLocation): Storage {
  return location.engine === 'sqlite'
    ? createSqliteStorage({ file: location.file, cacheSizeKib: THREAD_SQLITE_CACHE_KIB })
    : createPostgresStorage({ url: location.url, ...(location.schema !== undefined ? { schema: location.schema } : {}), maxConnections: THREAD_PG_CONNECTIONS });
}
