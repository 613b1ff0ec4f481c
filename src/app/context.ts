import type { Config } from '../config/config.ts';
import type { Clock } from '../domain/clock.ts';
import type { MetricDefinition } from '../domain/metrics/definition.ts';
import type { Cache } from '../ports/cache.ts';
import type { ParallelDayFolder } from '../ports/day-folder.ts';
import type { CostEstimator, CountryLookup } from '../ports/enrichment.ts';
import type { Logger } from '../ports/logger.ts';
import type { StorageRoles } from '../ports/storage.ts';
import type { Telemetry } from '../ports/telemetry.ts';
import type { SourcesRuntime } from '../sources/ports.ts';
import type { ReportsRuntime } from '../reports/ports.ts';
import type { AlertsRuntime } from '../alerts/ports.ts';
import type { PassMemory } from '../ports/pass-memory.ts';

/**
 * Everything a use case may depend on, built once by src/compose.ts and passed in.
 * Use cases are plain functions `(ctx, input) => result` whose `ctx` is typed as the few
 * fields they use (`Pick<AppContext, 'orgStore' | 'clock'>`), never the whole context.
 * Storage comes as one field per role (ports/storage.ts `StorageRoles`: orgStore,
 * dataVersions, keyStore, eventAppender, eventReader, dirtyQueue, rollupReader, rollupWriter,
 * leaseStore, retentionStore, storageHealth); opening and closing the database is the wiring's job.
 */
export interface AppContext extends StorageRoles {
  config: Readonly<Config>;
  cache: Cache;
  clock: Clock;
  /** Built-in catalog plus the config's custom metrics, validated at start. */
  metrics: readonly MetricDefinition[];
  costs: CostEstimator;
  countries: CountryLookup;
  telemetry: Telemetry;
  log: Logger;
  /** SQL sources (src/sources): meterboard's record of them and connections to their databases. */
  sources: SourcesRuntime;
  /** Daily reports: ledger and settings store, mailer, webhook sender (src/reports). */
  reports: ReportsRuntime;
  /** Alert rules, their states and history (src/alerts); notifications use `reports`' mailer and webhook. */
  alerts: AlertsRuntime;
  /**
   * Aggregation threads (AGGREGATION_THREADS, ADR 0016): a backlog pass folds shares of its days
   * on them. Absent (one thread, or storage a thread cannot reopen such as `:memory:`): in process.
   */
  dayFolder?: ParallelDayFolder;
  /** The heap policy an aggregation pass runs under (ADR 0021); the engine's own when absent. */
  passMemory?: PassMemory;
}
