import type { MetricDefinition } from '../domain/metrics/definition.ts';
import type { Organization } from '../domain/organization.ts';
import type { RetentionConfig } from '../domain/retention.ts';

/**
 * Folds whole local days of one organization (hour rows from raw events, the day row from
 * those hours) elsewhere than on the calling thread, writing them through a storage connection
 * of its own to the caller's database (ADR 0016). A full or backlog pass hands it shares of
 * its days and folds one share itself; weeks and months are rebuilt by the caller afterwards,
 * reading the written days back.
 */
export interface DayShare {
  org: Organization;
  /** Requested hour starts (instants in the org's zone) of the share's days; every hour of a day the share touches is its. */
  hours: readonly number[];
  /** The pass's instant: the same clock reading on every thread. */
  now: number;
  retention: RetentionConfig;
  /** The caller's catalog (built-ins plus the config's custom metrics), compiled again by the folder. */
  metrics: readonly MetricDefinition[];
}

/** What a share wrote (the hour and day tiers only). */
export interface DayShareResult {
  events: number;
  expiredHours: number;
  hour: { buckets: number; rows: number };
  day: { buckets: number; rows: number };
}

export interface ParallelDayFolder {
  /** Shares it folds at the same time (0: none, the caller folds everything in process). */
  readonly threads: number;
  /**
   * Waits until the caller may write rollups next to the shares, and returns the release.
   * Engines with one writer at a time (SQLite) hand out one slot, shares and caller in turn, so
   * a write waits here, asynchronously, while its thread folds on, instead of sleeping in the
   * database's busy handler; elsewhere it resolves at once.
   */
  writeSlot(): Promise<() => void>;
  /**
   * Folds and writes the share's days. Each write holds a write slot, and `beforeWrite` is
   * called (and awaited) once it is held, just before the write; when it throws (the org lease
   * was lost), nothing more is written and the share rejects with that error. Rejects when the share could not be completed (its thread died,
   * storage failed); resolves or rejects only once nothing of the share is being written.
   */
  foldDays(share: DayShare, beforeWrite: () => Promise<void>): Promise<DayShareResult>;
  /** Stops the threads (a share still running rejects). Idempotent. */
  close(): Promise<void>;
}
