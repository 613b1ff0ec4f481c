import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MigrationFile {
  /** File name without `.sql`, e.g. `001_init`; recorded in schema_migrations. */
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)_[a-z0-9_-]+\.sql$/i;

/**
 * Numbered migrations of one engine, in the order they must run. Fails on files that do not
 * follow `NNN_name.sql` or on two files with the same number, so a bad checkout stops start-up
 * instead of applying migrations in a surprising order.
 */
export function readMigrations(dir: string): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  const numbered = files.map((file) => {
    const match = MIGRATION_FILE.exec(file);
    if (!match) throw new Error(`migration file "${file}" in ${dir} must be named NNN_name.sql`);
    return { file, number: Number(match[1]) };
  });
  numbered.sort((a, b) => a.number - b.number);
  for (let i = 1; i < numbered.length; i++) {
    if (numbered[i]!.number === numbered[i - 1]!.number) {
      throw new Error(`migrations ${numbered[i - 1]!.file} and ${numbered[i]!.file} share a number`);
    }
  }
  return numbered.map(({ file }) => ({
    name: file.slice(0, -'.sql'.length),
    sql: readFileSync(join(dir, file), 'utf8'),
  }));
}
