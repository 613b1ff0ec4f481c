import type { Database } from 'better-sqlite3';

/**
 * Runs a rollup write (one transaction) with `synchronous = NORMAL`: its commit is written to
 * the WAL but not fsynced. Rollups are recomputable from raw events, and the dirty marks that
 * would recompute them are cleared only afterwards by a commit at the connection's own level
 * (FULL), whose fsync of the WAL covers every frame before it: if the clear survives a power
 * loss, so do the rollups; if the rollups are lost, so is the clear, and the next pass redoes
 * them (ADR 0002; the PostgreSQL adapter's asynchronous commit rests on the same order, ADR
 * 0011). Events, marks, keys and everything else keep the connection's level.
 */
export function withRelaxedCommit<T>(db: Database, write: () => T): T {
  const level = db.pragma('synchronous', { simple: true }) as number;
  // NORMAL is 1: a connection already at OFF or NORMAL is left as it is.
  if (level <= 1) return write();
  db.pragma('synchronous = NORMAL');
  try {
    return write();
  } finally {
    db.pragma(`synchronous = ${level}`);
  }
}
