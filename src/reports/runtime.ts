import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { renderReportHtml } from './adapters/html-email.ts';
import { createHttpWebhookSender } from './adapters/http-webhook.ts';
import { renderTrendImages } from './adapters/trend-charts.ts';
import { createPostgresReportStore } from './adapters/postgres-report-store.ts';
import { createSmtpMailer } from './adapters/smtp-mailer.ts';
import { createSqliteReportStore } from './adapters/sqlite-report-store.ts';
import type { Mailer, ReportRenderer, ReportStore, WebhookSender } from './ports.ts';

/** What the reports feature needs at run time; `AppContext.reports`, built in compose.ts. */
export interface ReportsRuntime {
  store: ReportStore;
  /** Null when SMTP_URL is not set: e-mail deliveries then fail visibly (and are retried). */
  mailer: Mailer | null;
  webhook: WebhookSender;
  renderer: ReportRenderer;
  /** This process's identity in delivery leases. */
  holder: string;
  close(): Promise<void>;
}

export interface ReportStoreTarget {
  /** SQLite file (embedded) … */
  sqliteFile?: string | undefined;
  /** … or PostgreSQL URL and schema (server). */
  postgresUrl?: string | undefined;
  postgresSchema?: string | undefined;
}

export function createReportsRuntime(config: Pick<Config, 'smtpUrl' | 'databaseUrl' | 'dataDir'>, target: ReportStoreTarget = {}): ReportsRuntime {
  const postgresUrl = target.postgresUrl ?? config.databaseUrl;
  const store =
    target.sqliteFile === undefined && postgresUrl !== undefined
      ? createPostgresReportStore({ url: postgresUrl, schema: target.postgresSchema })
      : createSqliteReportStore(target.sqliteFile ?? join(config.dataDir, 'meterboard.db'));
  const mailer = config.smtpUrl ? createSmtpMailer(config.smtpUrl) : null;
  return {
    store,
    mailer,
    webhook: createHttpWebhookSender(),
    renderer: { trendImages: renderTrendImages, html: (report, imageSrc) => renderReportHtml(report, { imageSrc }) },
    holder: `reports-${randomUUID()}`,
    async close() {
      await mailer?.close();
      await store.close();
    },
  };
}
