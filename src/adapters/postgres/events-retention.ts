import type { Pool } from 'pg';
import { inTransaction } from './db.ts';
import { DAY_MS, listPartitionDays, lockPartitionDdl, type EventPartitions } from './event-partitions.ts';

/**
 * Retention for raw events: daily partitions lying wholly before the cutoff are dropped (no
 * row-by-row delete, no bloat); rows of the partition straddling the cutoff and of DEFAULT are
 * deleted. Their idempotency ids and supersede winners go with them, in the same transaction. Returns the number of
 * events removed.
 */
export async function deleteEventsBefore(pool: Pool, partitions: EventPartitions, cutoff: number): Promise<number> {
  const droppedDays: number[] = [];
  const removed = await inTransaction(pool, async (client) => {
    await lockPartitionDdl(client);
    let count = 0;
    const days = [...(await listPartitionDays(client))].sort(([a], [b]) => a - b);
    for (const [day, name] of days) {
      if ((day + 1) * DAY_MS > cutoff) continue;
      // Every event has exactly one event_ids row, so this also counts the partition's events.
      const ids = await client.query(
        `DELETE FROM event_ids AS i USING ${name} AS p WHERE i.org_id = p.org_id AND i.id = p.id`,
      );
      count += ids.rowCount ?? 0;
      await client.query(`DROP TABLE ${name}`);
      droppedDays.push(day);
    }
    const rest = await client.query(
      `WITH gone AS (DELETE FROM events WHERE ts < $1 RETURNING org_id, id)
       DELETE FROM event_ids AS i USING gone AS g WHERE i.org_id = g.org_id AND i.id = g.id`,
      [cutoff],
    );
    // A key's winner is its newest event: when it is gone, so is every event of the key.
    await client.query('DELETE FROM supersede_heads WHERE ts < $1', [cutoff]);
    return count + (rest.rowCount ?? 0);
  });
  partitions.forget(droppedDays);
  return removed;
}
