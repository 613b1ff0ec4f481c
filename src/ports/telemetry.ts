/** Operational counters exported on /metrics (prom-client adapter) — use cases report, never format. */
export interface Telemetry {
  eventsIngested(orgId: string, accepted: number, duplicates: number, rejected: number): void;
  aggregationRun(result: { ok: boolean; durationSeconds: number; records: number; finishedAt: number }): void;
  /** One pull of a SQL source (src/sources): rows read, success, and when it finished (for its lag). */
  sourcePulled(result: { source: string; ok: boolean; rowsRead: number; finishedAt: number }): void;
}

export const noopTelemetry: Telemetry = {
  eventsIngested: () => undefined,
  aggregationRun: () => undefined,
  sourcePulled: () => undefined,
};
