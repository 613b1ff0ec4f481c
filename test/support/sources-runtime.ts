import { createPgSourceConnector } from '../../src/sources/adapters/pg-source-connector.ts';
import { createPostgresSourceState } from '../../src/sources/adapters/postgres-source-state.ts';
import { createSqliteSourceState } from '../../src/sources/adapters/sqlite-source-state.ts';
import type { SourcesRuntime } from '../../src/sources/ports.ts';
import { silentLogger, type Logger } from '../../src/ports/logger.ts';
import { TEST_DATABASE_URL } from './postgres.ts';

/** The sources runtime over the same database as a test's storage (opened lazily: unused, it holds nothing). */
export function testSourcesRuntime(
  target: { engine: 'sqlite'; dataDir: string } | { engine: 'postgres'; schema: string },
  log: Logger = silentLogger,
): SourcesRuntime {
  return {
    state:
      target.engine === 'sqlite'
        ? createSqliteSourceState({ dataDir: target.dataDir })
        : createPostgresSourceState({ url: TEST_DATABASE_URL, schema: target.schema }),
    connector: createPgSourceConnector({ log }),
  };
}
