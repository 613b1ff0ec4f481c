/**
 * Where a storage adapter's data lives, enough for another thread or process to open the same
 * database (structured-cloned into aggregation threads, ADR 0016). A database that cannot be
 * reopened elsewhere (SQLite `:memory:`) has none.
 */
export type StorageLocation = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string; schema?: string };
