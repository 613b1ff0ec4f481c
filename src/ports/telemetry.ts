/** Operational counters exported on /metrics (prom-client adapter) — use cases report, never format. */
export interface Telemetry {
  eventsIngested(orgId: string, accepted: number, duplicates: number, rejected: number): void;
  aggregationRun(result: { ok: boolean; durationSeconds: number; records: number; finishedAt: number }): void;
  /** One daily-report delivery attempt (reports feature). */
  reportDelivery?(channel: 'email' | 'webhook', result: 'delivered' | 'failed'): void;
}

export const noopTelemetry: Telemetry = {
  eventsIngested: () => undefined,
  aggregationRun: () => undefined,
};
