import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './db.ts';

export const DAY_MS = 86_400_000;
const PARTITION_NAME = /^events_(\d{4})(\d{2})(\d{2})$/;

/** UTC day number of an instant: partitions are UTC days, independent of any org's zone. */
export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

/** `events_YYYYMMDD`, or null for days outside years 1000–9999 (those rows stay in the DEFAULT partition). */
export function partitionName(day: number): string | null {
  const date = new Date(day * DAY_MS);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 1000 || year > 9999) return null;
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dom = String(date.getUTCDate()).padStart(2, '0');
  return `events_${year}${month}${dom}`;
}

export function partitionDay(name: string): number | null {
  const match = PARTITION_NAME.exec(name);
  if (match === null) return null;
  return dayOf(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

/**
 * Every statement that adds or drops a partition of `events` in this schema takes this lock
 * first, so DDL on the partition tree runs one at a time and never deadlocks on the DEFAULT
 * partition or the parent.
 */
export async function lockPartitionDdl(client: PoolClient): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('meterboard.event_partitions.' || current_schema(), 0))`,
  );
}

/** Daily partitions that exist now, by day number. */
export async function listPartitionDays(client: PoolClient | Pool): Promise<Map<number, string>> {
  const result = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass`,
  );
  const days = new Map<number, string>();
  for (const { name } of result.rows) {
    const day = partitionDay(name);
    if (day !== null) days.set(day, name);
  }
  return days;
}

/**
 * Creates daily partitions on demand and remembers the ones known to exist. A stale memory
 * (another process dropped a partition) is harmless: rows land in DEFAULT and move into the
 * partition when it is created again.
 */
export class EventPartitions {
  private readonly known = new Set<number>();

  constructor(private readonly pool: Pool) {}

  async ensureFor(timestamps: Iterable<number>): Promise<void> {
    const missing = new Set<number>();
    for (const ts of timestamps) {
      const day = dayOf(ts);
      if (!this.known.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await inTransaction(this.pool, async (client) => {
      await lockPartitionDdl(client);
      const existing = await listPartitionDays(client);
      for (const day of existing.keys()) this.known.add(day);
      for (const day of [...missing].sort((a, b) => a - b)) {
        if (this.known.has(day)) continue;
        await createPartition(client, day);
      }
    });
    for (const day of missing) this.known.add(day);
  }

  forget(days: Iterable<number>): void {
    for (const day of days) this.known.delete(day);
  }
}

/**
 * Builds the partition as a plain table, moves any rows of its day out of DEFAULT into it,
 * then attaches it: attaching a range that DEFAULT still holds rows for would fail.
 */
async function createPartition(client: PoolClient, day: number): Promise<void> {
  const name = partitionName(day);
  if (name === null) return;
  const from = day * DAY_MS;
  const to = from + DAY_MS;
  await client.query(`CREATE TABLE ${name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  await client.query(
    `WITH moved AS (DELETE FROM events_default WHERE ts >= ${from} AND ts < ${to} RETURNING *)
     INSERT INTO ${name} SELECT * FROM moved`,
  );
  await client.query(`ALTER TABLE events ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
}
