/**
 * Statements are prepared on first use: SQLite refuses to prepare against tables that do not
 * exist yet, and a fresh database only has them after `migrate()`.
 */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
