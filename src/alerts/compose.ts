import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { ReportStoreTarget } from '../reports/ports.ts';
import { createPostgresAlertStore } from './adapters/postgres-alert-store.ts';
import { createSqliteAlertStore } from './adapters/sqlite-alert-store.ts';
import { configRulesByOrg } from './domain/config-rules.ts';
import type { AlertsRuntime } from './ports.ts';

/** The alert store on the configured engine, and the config file's rules (validated by loadConfig). */
export function createAlertsRuntime(config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'alerts'>>, target: ReportStoreTarget = {}): AlertsRuntime {
  const postgresUrl = target.postgresUrl ?? config.databaseUrl;
  const store =
    target.sqliteFile === undefined && postgresUrl !== undefined
      ? createPostgresAlertStore({ url: postgresUrl, schema: target.postgresSchema })
      : createSqliteAlertStore(target.sqliteFile ?? join(config.dataDir, 'meterboard.db'));
  return { store, configRules: configRulesByOrg(config.alerts ?? []), syncedOrgs: new Set(), close: () => store.close() };
}
