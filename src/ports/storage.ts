import type { ApiKeyRecord, KeyScope, Organization } from '../domain/organization.ts';
import type { NewEvent, StoredEvent } from '../domain/event.ts';
import type { Granularity, RollupRow } from '../domain/rollup-types.ts';

/**
 * Storage ports. Each engine (SQLite embedded, PostgreSQL server) implements all of them in
 * one `Storage` object; `test/contract/` runs the same assertions against every engine.
 * All instants are epoch milliseconds (UTC).
 */

export interface OrgStore {
  /** Throws ConflictError when the id exists. */
  createOrg(org: { id: string; name: string; timezone: string }, now: number): Promise<Organization>;
  getOrg(id: string): Promise<Organization | null>;
  listOrgs(): Promise<Organization[]>;
  /** Returns null when the org does not exist. */
  updateOrg(id: string, patch: { name?: string; timezone?: string }, now: number): Promise<Organization | null>;
  /** Monotonic per-org counter bumped whenever rollups of the org are rewritten (cache invalidation). */
  getDataVersion(orgId: string): Promise<number>;
  bumpDataVersion(orgId: string): Promise<number>;
}

export interface KeyStore {
  createKey(key: { id: string; orgId: string; scope: KeyScope; name: string; keyHash: string }, now: number): Promise<ApiKeyRecord>;
  /** Only keys that are not revoked. */
  findKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  listKeys(orgId: string): Promise<ApiKeyRecord[]>;
  /** Returns false when no such (non-revoked) key exists in the org. */
  revokeKey(orgId: string, keyId: string, now: number): Promise<boolean>;
  touchKey(keyId: string, now: number): Promise<void>;
}

export interface InsertEventsResult {
  /** Per input position: true when stored now, false when `(org, id)` was already stored (duplicate). */
  inserted: boolean[];
  /** Hour buckets (UTC instants of local hour starts) marked dirty by this insert. */
  dirtyHours: number[];
}

export interface EventScan {
  orgId: string;
  /** [from, to) on the event timestamp. */
  from: number;
  to: number;
  /** Restrict to these event types; all when absent. */
  types?: readonly string[];
  project?: string;
  tag?: string;
}

export interface EventStore {
  /**
   * Stores events idempotently on `(org, id)` and, in the same transaction, marks dirty the
   * hour of every inserted event plus the hours of events whose superseded state changed.
   * Durable (committed, synced) when the promise resolves. `hourOf` maps an instant to the
   * start of its hour bucket in the org's zone.
   */
  insertEvents(orgId: string, events: readonly NewEvent[], hourOf: (ts: number) => number, now: number): Promise<InsertEventsResult>;
  /** Non-superseded events with ts in [from, to), ordered by ts. */
  scanEvents(scan: EventScan): Promise<StoredEvent[]>;
  /** Newest first, non-superseded, optionally restricted to types. */
  recentEvents(orgId: string, types: readonly string[], limit: number): Promise<StoredEvent[]>;
  countEvents(orgId?: string): Promise<number>;
  /** Earliest and latest event timestamp of the org (for backfill and time-zone changes); null when it has none. */
  eventTimestampsRange(orgId: string): Promise<{ min: number; max: number } | null>;
  /** Retention: delete events with ts < cutoff. Returns the number removed (PostgreSQL drops whole partitions where it can). */
  deleteEventsBefore(cutoff: number): Promise<number>;
  countEventsBefore(cutoff: number): Promise<number>;
}

export interface DirtyMark {
  orgId: string;
  hourStart: number;
  /** Generation at claim time: the mark is cleared only if no newer write re-marked it. */
  generation: number;
}

export interface DirtyStore {
  markDirty(orgId: string, hourStarts: readonly number[]): Promise<void>;
  /** Orgs that have dirty hours. */
  dirtyOrgs(): Promise<string[]>;
  listDirty(orgId: string, limit: number): Promise<DirtyMark[]>;
  /** Deletes marks whose generation still equals the claimed one. */
  clearDirty(marks: readonly DirtyMark[]): Promise<void>;
}

export interface RollupQuery {
  orgId: string;
  granularity: Granularity;
  /** bucketStart in [from, to). */
  from: number;
  to: number;
  metrics?: readonly string[];
  project?: string;
  tag?: string;
  /** '' = global rows only; a name = that dimension's rows; undefined = all rows. */
  dimName?: string;
}

export interface RollupStore {
  /**
   * Atomically replaces every row of the given buckets (all metrics, projects, tags and
   * dimensions) with `rows`: rows of those buckets not in `rows` disappear. Bulk operation.
   */
  replaceBuckets(orgId: string, granularity: Granularity, bucketStarts: readonly number[], rows: readonly RollupRow[]): Promise<void>;
  readRollups(query: RollupQuery): Promise<RollupRow[]>;
  /** Distinct metric names present for the org (custom gauges appear here). */
  rollupMetricNames(orgId: string): Promise<string[]>;
  deleteRollupsBefore(granularity: Granularity, cutoff: number): Promise<number>;
  countRollupsBefore(granularity: Granularity, cutoff: number): Promise<number>;
  deleteAllRollups(orgId: string): Promise<void>;
}

export interface LeaseStore {
  /** Takes (or renews, for the same holder) the named lease until now + ttlMs; false when another holder has it. */
  tryAcquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}

/** Outcome of the latest run of a job, shared by every process through the database (issue 12). */
export interface JobHealthRecord {
  job: string;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastDurationMs: number;
  lastRecords: number;
}

/** What a Prometheus scrape reads every time (issue 12): job outcomes and every org's data version in one query each. */
export interface JobHealthStore {
  recordJobRun(run: { job: string; ok: boolean; finishedAt: number; durationMs: number; records: number }): Promise<void>;
  readJobHealth(): Promise<JobHealthRecord[]>;
  /** Every organization's data version (see OrgStore.getDataVersion), in one read. */
  listDataVersions(): Promise<Map<string, number>>;
}

export interface Storage extends OrgStore, KeyStore, EventStore, DirtyStore, RollupStore, LeaseStore, JobHealthStore {
  readonly engine: 'sqlite' | 'postgres';
  /** Applies pending numbered migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Cheap round trip; throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
