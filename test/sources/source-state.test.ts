import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteStorage } from '../../src/adapters/sqlite/sqlite-storage.ts';
import { createPostgresSourceState } from '../../src/sources/adapters/postgres-source-state.ts';
import { createSqliteSourceState } from '../../src/sources/adapters/sqlite-source-state.ts';
import { POSTGRES_SELECTED } from '../support/engines.ts';
import { postgresTestSchemas, TEST_DATABASE_URL } from '../support/postgres.ts';
import { describeSourceStateContract } from './source-state.contract.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'meterboard-source-state-'));
const schemas = postgresTestSchemas('source_state');
afterAll(async () => {
  await schemas.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

// The tables come from migration 020, applied by the storage's migrate() like every other.
describeSourceStateContract('sqlite', async () => {
  const storage = createSqliteStorage({ dataDir });
  await storage.migrate();
  const store = createSqliteSourceState({ dataDir });
  return { store, close: async () => (await store.close(), await storage.close()) };
});

if (POSTGRES_SELECTED) {
  describeSourceStateContract('postgres', async () => {
    const schema = schemas.newSchema();
    const migrated = schemas.openStorage(schema);
    await migrated.migrate();
    const store = createPostgresSourceState({ url: TEST_DATABASE_URL, schema });
    return { store, close: async () => (await store.close(), await migrated.close()) };
  });
}
