import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { renderReportHtml } from './adapters/html-email.ts';
import { createHttpWebhookSender } from './adapters/http-webhook.ts';
import { renderTrendImages } from './adapters/trend-charts.ts';
import { createPostgresReportStore } from './adapters/postgres-report-store.ts';
import { createSmtpMailer } from './adapters/smtp-mailer.ts';
import { createSqliteReportStore } from './adapters/sqlite-report-store.ts';
import type { ReportsRuntime, ReportStoreTarget } from './ports.ts';

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
