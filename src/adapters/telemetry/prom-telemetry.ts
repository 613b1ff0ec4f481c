import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SourceHealth, Telemetry } from '../../ports/telemetry.ts';
import type { JobHealthRecord } from '../../ports/storage.ts';

/** What GET /metrics needs; the HTTP layer finds it on the telemetry object or in its options. */
export interface MetricsExporter {
  readonly contentType: string;
  render(): Promise<string>;
}

export type PromTelemetry = Telemetry & MetricsExporter & { readonly registry: Registry };

/**
 * Telemetry on a private prom-client registry (one per process or per test server, never the
 * global one, so several instances can coexist). No label carries an organization id: with
 * many tenants that would explode series cardinality.
 */
export interface PromTelemetryOptions {
  processMetrics?: boolean;
  /**
   * Job health shared through the database: the last-success gauge shows the latest pass run by
   * any process (a serve process that never aggregates still reports the workers' passes).
   */
  readJobHealth?: () => Promise<JobHealthRecord[]>;
  /**
   * Each organization's oldest dirty hour (JobHealthStore.oldestDirtyHours), read at scrape time
   * from the database, so every process reports the same aggregation backlog.
   */
  readOldestDirtyHours?: () => Promise<Map<string, number>>;
  /** Wall clock for the lag gauges, aggregation and sources (tests pass their fixed clock). */
  now?: () => number;
}

const HOUR_MS = 3_600_000;

export function createPromTelemetry(options: PromTelemetryOptions = {}): PromTelemetry {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total fail `promtool check metrics`; the per-type gauges without the suffix stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }

  const ingested = new Counter({
    name: 'meterboard_events_ingested_total',
    help: 'Events received by ingest, by outcome (accepted, duplicate, rejected).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['accepted', 'duplicate', 'rejected']) ingested.inc({ result }, 0);

  const duration = new Histogram({
    name: 'meterboard_aggregation_duration_seconds',
    help: 'Duration of aggregation passes.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const records = new Counter({
    name: 'meterboard_aggregation_records_processed_total',
    help: 'Raw events read by aggregation passes.',
    registers: [registry],
  });
  let localLastSuccess = 0;
  const readJobHealth = options.readJobHealth;
  // Registered on the registry; its value is computed when scraped.
  new Gauge({
    name: 'meterboard_aggregation_last_success_timestamp_seconds',
    help: 'Unix time at which the last successful aggregation pass finished, in any process (0 before the first).',
    registers: [registry],
    async collect() {
      let shared = 0;
      if (readJobHealth) {
        // A database outage must not break /metrics: the process's own figure is still reported.
        const records = await readJobHealth().catch(() => []);
        shared = (records.find((record) => record.job === 'aggregate')?.lastSuccessAt ?? 0) / 1000;
      }
      this.set(Math.max(localLastSuccess, shared));
    },
  });
  const readOldestDirty = options.readOldestDirtyHours;
  const wallClock = options.now ?? Date.now;
  if (readOldestDirty) {
    // One read per scrape, shared by the two gauges: a scrape starts every collect in the same
    // tick, so the read is forgotten as soon as it settles (a timer could outlive a fast scrape
    // and hand the next one a stale backlog). A failing read reports NaN (unknown), never 0,
    // which would claim that nothing waits; the scrape itself still succeeds.
    let backlog: Promise<number[] | null> | null = null;
    const lagsNow = (): Promise<number[] | null> => {
      backlog ??= readOldestDirty()
        .then((oldest) => {
          const now = wallClock();
          return [...oldest.values()].map((hourStart) => Math.max(0, (now - (hourStart + HOUR_MS)) / 1000));
        })
        .catch(() => null)
        .finally(() => {
          backlog = null;
        });
      return backlog;
    };
    // Per-organization lag (label org) is on the keyed /api/v1/prometheus endpoints only: /metrics
    // names no organization. Here: the worst organization and how many wait.
    new Gauge({
      name: 'meterboard_aggregation_max_lag_seconds',
      help: "Seconds since the end of the oldest hour with events not aggregated yet, over every organization (0 when none waits).",
      registers: [registry],
      async collect() {
        const lags = await lagsNow();
        this.set(lags ? lags.reduce((max, lag) => Math.max(max, lag), 0) : Number.NaN);
      },
    });
    new Gauge({
      name: 'meterboard_aggregation_organizations_waiting',
      help: 'Organizations with events not aggregated yet.',
      registers: [registry],
      async collect() {
        const lags = await lagsNow();
        this.set(lags ? lags.length : Number.NaN);
      },
    });
  }
  const errors = new Counter({
    name: 'meterboard_aggregation_errors_total',
    help: 'Aggregation passes that failed.',
    registers: [registry],
  });

  const sourceRows = new Counter({
    name: 'meterboard_source_rows_read_total',
    help: 'Rows read from SQL sources, by source.',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const sourceErrors = new Counter({
    name: 'meterboard_source_errors_total',
    help: 'SQL source pulls that failed, by source.',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  let readSources: (() => Promise<SourceHealth[]>) | null = null;
  // One read per scrape, shared by the three gauges below; a failing read leaves them empty.
  let scrape: Promise<SourceHealth[]> | null = null;
  const sourceHealth = (): Promise<SourceHealth[]> => {
    if (readSources === null) return Promise.resolve([]);
    scrape ??= readSources()
      .catch(() => [])
      .finally(() => setTimeout(() => (scrape = null), 0));
    return scrape;
  };
  const sourceGauge = (name: string, help: string, value: (health: SourceHealth, now: number) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['source'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const now = wallClock();
        for (const health of await sourceHealth()) {
          const v = value(health, now);
          if (v !== null) this.set({ source: health.source }, v);
        }
      },
    });
  sourceGauge('meterboard_source_lag_seconds', 'Seconds since the last successful pull of a SQL source (how stale its numbers may be).', (h, now) =>
    h.lastSuccessAt === null ? null : Math.max(0, (now - h.lastSuccessAt) / 1000),
  );
  sourceGauge('meterboard_source_last_success_timestamp_seconds', 'Unix time at which the last successful pull of a SQL source started.', (h) =>
    h.lastSuccessAt === null ? null : h.lastSuccessAt / 1000,
  );
  sourceGauge('meterboard_source_consecutive_failures', 'Failed pulls of a SQL source since its last success.', (h) => h.consecutiveFailures);
  const reportDeliveries = new Counter({
    name: 'meterboard_report_deliveries_total',
    help: 'Daily report delivery attempts, by channel (email, webhook) and result (delivered, failed; failures are retried).',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  });
  for (const channel of ['email', 'webhook']) for (const result of ['delivered', 'failed']) reportDeliveries.inc({ channel, result }, 0);
  const alertNotifications = new Counter({
    name: 'meterboard_alert_notifications_total',
    help: 'Alert notification attempts, by channel (email, webhook) and result (delivered, failed; failures are retried from the ledger).',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  });
  for (const channel of ['email', 'webhook']) for (const result of ['delivered', 'failed']) alertNotifications.inc({ channel, result }, 0);
  // The ledger is shared through the database, so any process (the API's /metrics) shows the backlog.
  let readAlertLedger: (() => Promise<Record<string, number>>) | null = null;
  new Gauge({
    name: 'meterboard_alert_notifications_undelivered',
    help: 'Alert notifications not delivered yet, by status (pending, sending, failed = waiting for a retry).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (readAlertLedger === null) return;
      const counts = await readAlertLedger().catch(() => null); // a database outage must not break /metrics
      if (counts === null) return;
      for (const status of ['pending', 'sending', 'failed']) this.set({ status }, counts[status] ?? 0);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    eventsIngested(_orgId, accepted, duplicates, rejected) {
      if (accepted > 0) ingested.inc({ result: 'accepted' }, accepted);
      if (duplicates > 0) ingested.inc({ result: 'duplicate' }, duplicates);
      if (rejected > 0) ingested.inc({ result: 'rejected' }, rejected);
    },
    aggregationRun({ ok, durationSeconds, records: processed, finishedAt }) {
      duration.observe(durationSeconds);
      if (processed > 0) records.inc(processed);
      if (ok) localLastSuccess = Math.max(localLastSuccess, finishedAt / 1000);
      else errors.inc();
    },
    sourcePulled({ source, ok, rowsRead }) {
      sourceRows.inc({ source }, rowsRead);
      if (!ok) sourceErrors.inc({ source });
    },
    watchSources(read) {
      readSources = read;
    },
    reportDelivery(channel, result) {
      reportDeliveries.inc({ channel, result });
    },
    alertNotification(channel, result) {
      alertNotifications.inc({ channel, result });
    },
    watchAlertNotifications(read) {
      readAlertLedger = read;
    },
  };
}
