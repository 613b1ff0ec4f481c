import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { createHttpWebhookSender } from './adapters/http-webhook.ts';
import { createPostgresReportStore } from './adapters/postgres-report-store.ts';
import { createSmtpMailer } from './adapters/smtp-mailer.ts';
import { createSqliteReportStore } from './adapters/sqlite-report-store.ts';
import type { ReportRenderer, ReportsRuntime, ReportStoreTarget } from './ports.ts';

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
    renderer: lazyRenderer(),
    holder: `reports-${randomUUID()}`,
    async close() {
      await mailer?.close();
      await store.close();
    },
  };
}

/**
 * The rendering libraries (ECharts, resvg, MJML) add ~40 MB to a process's RSS at start-up and
 * ~110 MB to the peak of a 1M-event aggregation pass (docs/PERFORMANCE.md § 2); most processes
 * (an aggregating worker, a server nobody asks for a report) never render one, so they load on
 * the first report instead.
 */
function lazyRenderer(): ReportRenderer {
  let loading: Promise<ReportRenderer> | undefined;
  const load = (): Promise<ReportRenderer> =>
    (loading ??= Promise.all([import('./adapters/trend-charts.ts'), import('./adapters/html-email.ts')]).then(([charts, email]): ReportRenderer => ({
      trendImages: async (report) => charts.renderTrendImages(report),
      html: async (report, imageSrc) => email.renderReportHtml(report, { imageSrc }),
    })).catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
  return {
    trendImages: async (report) => (await load()).trendImages(report),
    html: async (report, imageSrc) => (await load()).html(report, imageSrc),
  };
}
