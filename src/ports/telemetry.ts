/** Operational counters exported on /metrics (prom-client adapter) — use cases report, never format. */
export interface Telemetry {
  eventsIngested(orgId: string, accepted: number, duplicates: number, rejected: number): void;
  aggregationRun(result: { ok: boolean; durationSeconds: number; records: number; finishedAt: number }): void;
  /** One daily-report delivery attempt (reports feature). */
  reportDelivery?(channel: 'email' | 'webhook', result: 'delivered' | 'failed'): void;
  /** One alert notification attempt (alerts feature); failures are retried from the ledger. */
  alertNotification?(channel: 'email' | 'webhook', result: 'delivered' | 'failed'): void;
  /** Where to read the alert notification ledger's counts per status at scrape time. */
  watchAlertNotifications?(read: () => Promise<Record<'pending' | 'sending' | 'delivered' | 'failed', number>>): void;
  /** One pull of a SQL source (src/sources): rows read, success, and when it finished (for its lag). */
  sourcePulled(result: { source: string; ok: boolean; rowsRead: number; finishedAt: number }): void;
  /**
   * Where to read every source's health at scrape time (from the database, so the API process
   * shows it in server mode, where the worker pulls).
   */
  watchSources(read: () => Promise<SourceHealth[]>): void;
}

export interface SourceHealth {
  source: string;
  lastSuccessAt: number | null;
  consecutiveFailures: number;
}

export const noopTelemetry: Telemetry = {
  eventsIngested: () => undefined,
  aggregationRun: () => undefined,
  sourcePulled: () => undefined,
  watchSources: () => undefined,
};
