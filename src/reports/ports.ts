/**
 * Ports of the daily-reports feature. Use cases depend on these narrow interfaces only; each
 * engine implements `ReportStore` in `adapters/` (one contract suite for both).
 */

import type { DailyReport } from './domain/daily-report.ts';

export type DeliveryChannel = 'email' | 'webhook';
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface ReportSettings {
  orgId: string;
  recipients: string[];
  webhookUrl: string | null;
}

export interface DeliveryRecord {
  orgId: string;
  date: string;
  channel: DeliveryChannel;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ReportSnapshot {
  orgId: string;
  date: string;
  generatedAt: number;
  json: string;
  html: string;
}

export interface ReportSettingsStore {
  getSettings(orgId: string): Promise<ReportSettings>;
  saveSettings(settings: ReportSettings, now: number): Promise<void>;
}

export interface ReportLedger {
  /** Creates the (org, date, channel) row as pending unless it exists; never resets a row. */
  ensureDelivery(orgId: string, date: string, channel: DeliveryChannel, now: number): Promise<void>;
  /**
   * Takes the row for one attempt when it is pending or failed and due, or `sending` under an
   * expired lease (a worker died mid-send). Atomic: of several workers exactly one gets true.
   */
  claimDelivery(orgId: string, date: string, channel: DeliveryChannel, holder: string, now: number, leaseMs: number): Promise<boolean>;
  markDelivered(orgId: string, date: string, channel: DeliveryChannel, holder: string, now: number): Promise<void>;
  markFailed(orgId: string, date: string, channel: DeliveryChannel, holder: string, error: string, nextAttemptAt: number, now: number): Promise<void>;
  /** Rows not yet delivered whose next attempt is due (retries of earlier dates included). */
  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]>;
  listDeliveries(orgId: string, limit: number): Promise<DeliveryRecord[]>;
  /** Count per status, for `/metrics`. */
  countByStatus(): Promise<Record<DeliveryStatus, number>>;
}

export interface ReportArchive {
  /** Keeps the first snapshot of a date: the report as it was first sent. */
  saveSnapshot(snapshot: ReportSnapshot): Promise<void>;
  getSnapshot(orgId: string, date: string): Promise<ReportSnapshot | null>;
  latestSnapshot(orgId: string): Promise<ReportSnapshot | null>;
}

export interface ReportStore extends ReportSettingsStore, ReportLedger, ReportArchive {
  close(): Promise<void>;
}

export interface OutgoingMail {
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  /** Stable per (org, date): a receiver can drop a duplicate after a crash mid-send. */
  messageId: string;
  attachments: Array<{ filename: string; cid: string; content: Buffer; contentType: string }>;
}

export interface Mailer {
  /** Throws when the server refuses or cannot be reached. */
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export interface WebhookSender {
  /** Throws unless the endpoint answers 2xx. */
  post(url: string, body: unknown): Promise<void>;
}

export interface TrendImage {
  metricName: string;
  cid: string;
  png: Buffer;
  svg: string;
}

/** Turns the report data into the e-mail's HTML and its chart images (MJML, ECharts + resvg). */
export interface ReportRenderer {
  trendImages(report: DailyReport): Promise<TrendImage[]>;
  /** `imageSrc` says where a metric's chart is loaded from (`cid:` in mail, a data URI in the preview). */
  html(report: DailyReport, imageSrc: (metricName: string) => string | null): Promise<string>;
}

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
