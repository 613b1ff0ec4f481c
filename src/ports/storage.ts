import type { ApiKeyRecord, KeyScope, Organization } from '../domain/organization.ts';
import type { NewEvent, StoredEvent } from '../domain/event.ts';
import type { Granularity, RollupKey, RollupRow } from '../domain/rollup-types.ts';

/**
 * Storage role ports. Each use case depends on the few roles it uses (AppContext carries
 * them as separate fields); each storage adapter (SQLite embedded, PostgreSQL server)
 * implements all of them in one `Storage` object, and `test/contract/` runs the same
 * assertions against every adapter. Every method states the invariant an implementation must keep.
 * All instants are epoch milliseconds (UTC). Every method rejects with the domain's
 * `UnavailableError` when the database cannot be reached (adapters translate their drivers).
 */

/** Organizations (admin, ingest, queries). */
export interface OrgStore {
  /** Atomic create; throws ConflictError when the id exists (never overwrites). */
  createOrg(org: { id: string; name: string; timezone: string }, now: number): Promise<Organization>;
  getOrg(id: string): Promise<Organization | null>;
  /** Ordered by id. */
  listOrgs(): Promise<Organization[]>;
  /** Atomic partial update; returns null when the org does not exist. */
  updateOrg(id: string, patch: { name?: string; timezone?: string }, now: number): Promise<Organization | null>;
}

/** Per-org data versions: the cache-invalidation counter (ADR 0003). */
export interface DataVersions {
  /** 0 for an org whose rollups were never rewritten. */
  getDataVersion(orgId: string): Promise<number>;
  /**
   * The organization (as `getOrg`) and its data version, read together in one statement: a
   * cached answer needs both before its key is known, and on a server database two reads were
   * two round trips per hit (ADR 0018). null when the organization does not exist.
   */
  getOrgAndDataVersion(orgId: string): Promise<{ org: Organization; dataVersion: number } | null>;
  /** Atomic increment (concurrent bumps never collapse into one); returns the new value. Call after rollups of the org are rewritten. */
  bumpDataVersion(orgId: string): Promise<number>;
}

/** API keys (admin, authentication). Only hashes are stored. */
export interface KeyStore {
  /** Atomic create; throws ConflictError when the id (or hash) exists. The org must exist. */
  createKey(key: { id: string; orgId: string; scope: KeyScope; name: string; keyHash: string }, now: number): Promise<ApiKeyRecord>;
  /** Only keys that are not revoked. */
  findKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  /** Revoked keys included. */
  listKeys(orgId: string): Promise<ApiKeyRecord[]>;
  /** Idempotent: false when no such non-revoked key exists in the org (a second revoke is false). */
  revokeKey(orgId: string, keyId: string, now: number): Promise<boolean>;
  /** Records the key's last use (callers throttle; last write wins). */
  touchKey(keyId: string, now: number): Promise<void>;
}

export interface InsertEventsResult {
  /** Per input position: true when stored now, false when `(org, id)` was already stored (duplicate). */
  inserted: boolean[];
  /** Hour buckets (UTC instants of local hour starts) marked dirty by this insert. */
  dirtyHours: number[];
}

/** Ingest: the only writer of raw events. */
export interface EventAppender {
  /**
   * Atomic and idempotent on `(org, id)`: in one transaction stores the events not stored yet,
   * applies the domain's supersede rule (domain/supersede.ts) to their supersede keys, and marks
   * dirty the hour of every inserted event plus the hours of events whose superseded state
   * changed. Concurrent inserts for one supersede key are serialized by the adapter. Durable
   * (committed, synced) when the promise resolves. `hourOf` maps an instant to the start of its
   * hour bucket in the org's zone.
   */
  insertEvents(orgId: string, events: readonly NewEvent[], hourOf: (ts: number) => number, now: number): Promise<InsertEventsResult>;
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

/** One range of `forEachNewEvent`: [from, to) on the event timestamp. */
export interface FoldRange {
  from: number;
  to: number;
  /** Watermark of an earlier read: only events stored after it; null for every event of the range. */
  after: string | null;
}

/** What `forEachEvent` hands over per event: what metric evaluation reads, no more columns. */
export type FoldedEvent = Readonly<Pick<StoredEvent, 'orgId' | 'type' | 'ts' | 'project' | 'tag' | 'attrs'>>;

/** Raw-event reads (queries over the raw edges, aggregation, rebuilds). Read-only. */
export interface EventReader {
  /** Non-superseded events with ts in [from, to), ordered by ts. */
  scanEvents(scan: EventScan): Promise<StoredEvent[]>;
  /**
   * The events `scanEvents` returns, ordered by ts (equal timestamps in an order the adapter
   * fixes, the same on every scan of unchanged rows, not necessarily scanEvents' by id: ADR
   * 0010), handed to `visit` one by one as they are read, with the fields a fold needs (`FoldedEvent`): the store holds at most a bounded
   * batch of rows, never the whole range, so a caller folding them (raw query edges, hour
   * recomputation) needs memory for its partials only. Reads one consistent snapshot. `visit`
   * runs synchronously, must not keep the event (adapters reuse one object) and must not call
   * the store (SQLite's connection stays busy until the scan ends); when it throws, the scan
   * stops and the promise rejects with that error. Resolves with the number of events visited.
   */
  forEachEvent(scan: EventScan, visit: (event: FoldedEvent) => void): Promise<number>;
  /**
   * `forEachEvent` over several ranges of one org, in the order given and in one snapshot, each
   * range restricted to the events stored after its `after` watermark (every event when null).
   * `visit` also receives the index of the range. Resolves with the events visited and the
   * snapshot's watermark: the events a later call with that watermark visits are exactly those
   * stored (committed) after this read, whatever order concurrent writers commit in (ADR 0019).
   * Watermarks are opaque to callers.
   */
  forEachNewEvent(orgId: string, ranges: readonly FoldRange[], visit: (event: FoldedEvent, range: number) => void): Promise<{ events: number; watermark: string }>;
  /** Newest first, non-superseded, optionally restricted to types. */
  recentEvents(orgId: string, types: readonly string[], limit: number): Promise<StoredEvent[]>;
  /** Stored events (superseded included), of one org or of all. */
  countEvents(orgId?: string): Promise<number>;
  /** Earliest and latest event timestamp of the org (for backfill and time-zone changes); null when it has none. */
  eventTimestampsRange(orgId: string): Promise<{ min: number; max: number } | null>;
  /**
   * End of the settled stretch after `from`: the earlier of the first visible event at or after
   * `from` and the start of the first dirty (not yet aggregated) hour ending after `from` —
   * never before `from`, Infinity when neither exists. Up to it the rollups hold exactly the
   * events before `from`, so a query ending at `from` may read whole buckets there.
   */
  quietAfter(orgId: string, from: number): Promise<number>;
}

export interface DirtyMark {
  orgId: string;
  hourStart: number;
  /** Generation at claim time: the mark is cleared only if no newer write re-marked it. */
  generation: number;
  /**
   * The hour must be folded again from all its events, not only from those stored since its
   * last fold (ADR 0019): an event it counted lost its visibility (a dethroned supersede head),
   * or the mark was set by hand (`markDirty`: backfill, rebuilds).
   */
  refold: boolean;
}

/** Hours whose rollups must be recomputed (ADR 0002). */
export interface DirtyQueue {
  /**
   * Organizations one aggregation pass works on at once: 1 where the driver runs statements on
   * the calling thread (nothing to overlap), more where it waits on a socket, so that one
   * organization's round trips overlap another's folding.
   */
  readonly orgsAtOnce: number;
  /**
   * Idempotent per hour; every call gives the marks a new generation, so a pass that read an
   * older one does not clear them. Marks set here ask for a refold.
   */
  markDirty(orgId: string, hourStarts: readonly number[]): Promise<void>;
  /** Orgs that have dirty hours. */
  dirtyOrgs(): Promise<string[]>;
  /** Oldest hours first. Reading does not claim: the org lease keeps other workers out. */
  listDirty(orgId: string, limit: number): Promise<DirtyMark[]>;
  /** Compare-and-delete: removes only marks whose generation still equals the one read. */
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
  /**
   * The caller merges every row of a (bucket, metric, dimension value) and ignores project and
   * tag (a query without a project or tag filter): the reader may return rows already merged
   * across scopes, with project = tag = '' (ADR 0013). Not allowed with `project` or `tag`.
   */
  mergeScopes?: boolean;
  /**
   * Only the rows of these (metric, dimension) pairs — several dimensions' totals at once, such
   * as a dashboard's errors by status and requests by model and by country — instead of every
   * dimension of their metrics. Replaces `metrics` and `dimName`, which must then be absent.
   */
  pairs?: readonly RollupPair[];
}

/** One metric's rows of one dimension ('' = its global rows). */
export interface RollupPair {
  metric: string;
  dimName: string;
}

/** Rollup reads (queries, day/week/month rebuilds). Read-only. */
export interface RollupReader {
  readRollups(query: RollupQuery): Promise<RollupRow[]>;
  /**
   * The stored rows of exactly these keys (any tiers and buckets of one org), in no particular
   * order; keys without a row are left out. Point reads: the cost follows the keys asked for,
   * not the size of their buckets (incremental coarse tiers, ADR 0007).
   */
  readRollupsByKey(orgId: string, keys: readonly RollupKey[]): Promise<RollupRow[]>;
  /** Distinct metric names present for the org (custom gauges appear here). */
  rollupMetricNames(orgId: string): Promise<string[]>;
}

/** Rollup writes (aggregation, rebuilds). Callers hold the org lease. */
export interface RollupWriter {
  /**
   * Atomically replaces every row of the given buckets (all metrics, projects, tags and
   * dimensions) with `rows`: rows of those buckets not in `rows` disappear; a reader sees the
   * old or the new buckets, never a mix. Idempotent. Rejects rows outside the buckets.
   */
  replaceBuckets(orgId: string, granularity: Granularity, bucketStarts: readonly number[], rows: readonly RollupRow[]): Promise<void>;
  /**
   * In one transaction, across tiers: each row in `upserts` replaces the row of its key (or is
   * added) and each key in `deletes` loses its row (none is fine); nothing else changes. A
   * reader sees all of it or none. Idempotent. Rejects rows of another org and a key listed twice.
   * Set-based on a server engine: a bounded number of statements whatever the row count.
   */
  writeRollupRows(orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]): Promise<void>;
  /** Every rollup row of the org, all tiers, and its hour folds (time-zone change). */
  deleteAllRollups(orgId: string): Promise<void>;
  /**
   * Hour folds (ADR 0019): for an hour, the watermark (from `forEachNewEvent`) of the events its
   * stored rows include. Removes and returns those of the given hours: a pass takes them before
   * it writes, so a pass that dies between its write and `putHourFolds` leaves hours without a
   * fold (folded whole next time), never a fold older than the rows.
   */
  takeHourFolds(orgId: string, hourStarts: readonly number[]): Promise<Map<number, string>>;
  /** Drops the org's folds of hours before `pruneBefore`, then records these (replacing any of the same hours). */
  putHourFolds(orgId: string, folds: ReadonlyMap<number, string>, pruneBefore: number): Promise<void>;
  /** Drops the org's folds of hours in [from, to): whole-bucket rewrites of those hours follow. */
  dropHourFolds(orgId: string, from: number, to: number): Promise<void>;
}

/** Named, expiring mutual exclusion between processes (aggregation of one org). */
export interface LeaseStore {
  /** Atomic: takes (or renews, for the same holder) the named lease until now + ttlMs; false when another holder has an unexpired one. */
  tryAcquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Idempotent; releases only the holder's own lease. */
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
  /** Start (ms) of each organization's oldest dirty hour, organizations with none left out, in one read. */
  oldestDirtyHours(): Promise<Map<string, number>>;
}

/** Retention: removal of data older than a cutoff, and the dry-run counts that match it. */
export interface RetentionStore {
  /** Deletes events with ts < cutoff (PostgreSQL drops whole partitions where it can); returns the number removed. Idempotent. */
  deleteEventsBefore(cutoff: number): Promise<number>;
  /** What deleteEventsBefore would remove now. */
  countEventsBefore(cutoff: number): Promise<number>;
  /** Deletes rollup rows of one tier with bucketStart < cutoff; returns the number removed. Idempotent. */
  deleteRollupsBefore(granularity: Granularity, cutoff: number): Promise<number>;
  countRollupsBefore(granularity: Granularity, cutoff: number): Promise<number>;
}

/** Readiness probes. */
export interface StorageHealth {
  /** Cheap bounded round trip; rejects (UnavailableError) when the database does not answer. */
  ping(): Promise<void>;
}

/** Opening and closing: only compose.ts, the CLI's process owner and tests call these. */
export interface StorageLifecycle {
  /** Applies pending numbered migrations (safe when two processes migrate at once); returns the names applied. */
  migrate(): Promise<string[]>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Everything one storage adapter implements. Wiring and tests only: use cases take roles. */
export interface Storage
  extends OrgStore, DataVersions, KeyStore, EventAppender, EventReader, DirtyQueue, RollupReader, RollupWriter, LeaseStore, RetentionStore, JobHealthStore, StorageHealth, StorageLifecycle {}

/** The storage roles as AppContext fields: one field per role, named after it. */
export interface StorageRoles {
  orgStore: OrgStore;
  dataVersions: DataVersions;
  keyStore: KeyStore;
  eventAppender: EventAppender;
  eventReader: EventReader;
  dirtyQueue: DirtyQueue;
  rollupReader: RollupReader;
  rollupWriter: RollupWriter;
  leaseStore: LeaseStore;
  retentionStore: RetentionStore;
  storageHealth: StorageHealth;
  jobHealth: JobHealthStore;
}

/** One adapter object in every role field. */
export function storageRoles(storage: Storage): StorageRoles {
  return {
    orgStore: storage,
    dataVersions: storage,
    keyStore: storage,
    eventAppender: storage,
    eventReader: storage,
    dirtyQueue: storage,
    rollupReader: storage,
    rollupWriter: storage,
    leaseStore: storage,
    retentionStore: storage,
    storageHealth: storage,
    jobHealth: storage,
  };
}
