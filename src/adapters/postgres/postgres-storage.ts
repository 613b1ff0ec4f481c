import type { QueryConfig } from 'pg';
import type { Storage } from '../../ports/storage.ts';
import type { StorageLocation } from '../storage-location.ts';
import { createPool, type PostgresOptions } from './db.ts';
import { createDirtyQueue, createLeaseStore } from './dirty-leases.ts';
import { EventPartitions } from './event-partitions.ts';
import { insertEventBatch } from './events-insert.ts';
import { countEvents, countEventsBefore, eventTimestampsRange, forEachEvent, forEachNewEvent, quietAfter, recentEvents, scanEvents } from './events-read.ts';
import { deleteEventsBefore } from './events-retention.ts';
import { createJobHealthStore } from './job-health.ts';
import { applyMigrations } from './migrations.ts';
import { translateOutages } from '../outage.ts';
import { isPostgresOutage } from './outage.ts';
import { createKeyStore, createOrgStore } from './orgs-keys.ts';
import { createRollupRows } from './rollup-rows.ts';
import { createRollupStore } from './rollups.ts';
import { RememberedOrgs } from './remembered-orgs.ts';

export type { PostgresOptions } from './db.ts';

const PING_TIMEOUT_MS = 5_000;

/**
 * Server-mode storage on PostgreSQL (15+). Call `migrate()` before use. With `schema`, every
 * table lives in that schema (created by migrate), which is how tests isolate themselves.
 */
/** The engine's name is for diagnostics (logs, tests); use cases decide nothing by it. */
export type PostgresStorage = Storage & {
  readonly engine: 'postgres';
  /** Server and schema, for an aggregation thread's own pool. */
  readonly location: StorageLocation;
};

export function createPostgresStorage(options: PostgresOptions): PostgresStorage {
  const pool = createPool(options);
  const partitions = new EventPartitions(pool);
  const remembered = options.rememberOrgs === false ? undefined : new RememberedOrgs({ url: options.url, schema: options.schema, log: options.log });
  let closing: Promise<void> | undefined;

  // Refused, terminated, shut down, too many clients: the port promises UnavailableError, not SQLSTATEs.
  return translateOutages<PostgresStorage>({
    engine: 'postgres',
    location: { engine: 'postgres', url: options.url, ...(options.schema !== undefined ? { schema: options.schema } : {}) },
    ...createOrgStore(pool, remembered),
    ...createKeyStore(pool),
    ...createDirtyQueue(pool),
    ...createRollupStore(pool),
    ...createRollupRows(pool),
    ...createLeaseStore(pool),
    ...createJobHealthStore(pool),

    insertEvents: (orgId, events, hourOf, now) => insertEventBatch(pool, partitions, orgId, events, hourOf, now),
    scanEvents: (scan) => scanEvents(pool, scan),
    forEachEvent: (scan, visit) => forEachEvent(pool, scan, visit),
    forEachNewEvent: (orgId, ranges, visit) => forEachNewEvent(pool, orgId, ranges, visit),
    recentEvents: (orgId, types, limit) => recentEvents(pool, orgId, types, limit),
    countEvents: (orgId) => countEvents(pool, orgId),
    eventTimestampsRange: (orgId) => eventTimestampsRange(pool, orgId),
    quietAfter: (orgId, from) => quietAfter(pool, orgId, from),
    deleteEventsBefore: (cutoff) => deleteEventsBefore(pool, partitions, cutoff),
    countEventsBefore: (cutoff) => countEventsBefore(pool, cutoff),

    migrate: () => applyMigrations(pool, options.schema),
    async ping() {
      // Bounded, so readiness checks answer even when the server accepts but does not respond.
      await pool.query({ text: 'SELECT 1', query_timeout: PING_TIMEOUT_MS } as QueryConfig);
    },
    close() {
      closing ??= Promise.all([remembered?.close(), pool.end()]).then(() => undefined);
      return closing;
    },
  }, isPostgresOutage);
}
