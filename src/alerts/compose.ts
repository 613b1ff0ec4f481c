import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { ReportStoreTarget } from '../reports/ports.ts';
import { createPostgresAlertStore } from './adapters/postgres-alert-store.ts';
import { createSqliteAlertStore } from './adapters/sqlite-alert-store.ts';
import type { AlertsRuntime } from './ports.ts';

export function createAlertsRuntime(config: Pick<Config, 'databaseUrl' | 'dataDir'>, target: ReportStoreTarget = {}): AlertsRuntime {
  const postgresUrl = target.postgresUrl ?? config.databaseUrl;
  const store =
    target.sqliteFile === undefined && postgresUrl !== undefined
      ? createPostgresAlertStore({ url: postgresUrl, schema: target.postgresSchema })
      : createSqliteAlertStore(target.sqliteFile ?? join(config.dataDir, 'meterboard.db'));
  return { store, close: () => store.close() };
}
