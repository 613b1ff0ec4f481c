import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { ReportStoreTarget } from '../reports/runtime.ts';
import { createPostgresAlertStore } from './adapters/postgres-alert-store.ts';
import { createSqliteAlertStore } from './adapters/sqlite-alert-store.ts';
import type { AlertStore } from './ports.ts';

/**
 * What the alerts feature needs at run time; `AppContext.alerts`, built in compose.ts.
 * Notifications go out through the reports' mailer and webhook sender (`AppContext.reports`).
 */
export interface AlertsRuntime {
  store: AlertStore;
  close(): Promise<void>;
}

export function createAlertsRuntime(config: Pick<Config, 'databaseUrl' | 'dataDir'>, target: ReportStoreTarget = {}): AlertsRuntime {
  const postgresUrl = target.postgresUrl ?? config.databaseUrl;
  const store =
    target.sqliteFile === undefined && postgresUrl !== undefined
      ? createPostgresAlertStore({ url: postgresUrl, schema: target.postgresSchema })
      : createSqliteAlertStore(target.sqliteFile ?? join(config.dataDir, 'meterboard.db'));
  return { store, close: () => store.close() };
}
