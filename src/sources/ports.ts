import type { SourceConfig } from './source-config.ts';
import type { Cursor } from './table-pull.ts';

/** What one pull of one source did; recorded by SourceStateStore.recordPull. */
export interface SourcePullRecord {
  source: string;
  at: number;
  ok: boolean;
  rowsRead: number;
  accepted: number;
  rejected: number;
  /** Rows of unmapped organizations or past raw retention. */
  skipped: number;
  error: string | null;
  /** One rejection reason of this pull, for `sources status`. */
  lastRejection: string | null;
  /** change_at of the newest row read (µs), when any was read. */
  newestChangeUs: number | null;
}

export interface SourceStatus {
  source: string;
  lastPullAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  consecutiveFailures: number;
  rowsRead: number;
  eventsAccepted: number;
  eventsRejected: number;
  rowsSkipped: number;
  lastRejection: string | null;
  newestChangeUs: number | null;
}

/** meterboard's own record of its sources (migration 020_sources): cursors, pull outcomes, snapshot periods. */
export interface SourceStateStore {
  getCursor(source: string, table: string): Promise<Cursor | null>;
  /** Keeps the later of the stored and the given cursor (a re-pull from an earlier date never moves it back). */
  advanceCursor(source: string, table: string, cursor: Cursor, now: number): Promise<void>;
  /** Adds the counts to the source's totals and records success or the error. */
  recordPull(record: SourcePullRecord): Promise<void>;
  listStatus(): Promise<SourceStatus[]>;
  /** Start of the last period a snapshot was recorded for; null before the first. */
  lastSnapshotPeriod(source: string, snapshot: string): Promise<number | null>;
  recordSnapshot(source: string, snapshot: string, periodStart: number, value: number, now: number): Promise<void>;
  close(): Promise<void>;
}

/** A read-only session on a source database. Throws on connection and query errors. */
export interface SourceConnection {
  query(sql: string, params?: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
}

/** Opens (and reuses) connections to the configured sources. */
export interface SourceConnector {
  connection(source: SourceConfig): SourceConnection;
  close(): Promise<void>;
}

/** What AppContext carries for the sources feature. */
export interface SourcesRuntime {
  state: SourceStateStore;
  connector: SourceConnector;
}
