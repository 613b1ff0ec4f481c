import type { Pool, PoolClient } from 'pg';
import type { NewEvent } from '../../domain/event.ts';
import { dirtyHoursAfterInsert, refoldHoursAfterInsert } from '../../domain/supersede.ts';
import type { InsertEventsResult } from '../../ports/storage.ts';
import { numberArray, textArray } from './array-literals.ts';
import { inTransaction } from './db.ts';
import type { EventPartitions } from './event-partitions.ts';
import { encodeSupersedeKey } from './event-rows.ts';
import { planSupersede, SUPERSEDE_WRITES, supersedeWriteParams, type SupersedeCandidate, type SupersedePlan } from './events-supersede.ts';

/**
 * Idempotent bulk insert: one transaction and a fixed number of round trips whatever the
 * batch size. `event_ids` decides which events are new (its primary key is the idempotency
 * key); only those go into the partitioned `events` table, with superseded flags decided
 * against each key's stored winner; dethroned winners flip; every hour holding an inserted or
 * flipped event is marked dirty before commit. Round trips: BEGIN, claim, (lock, read heads when
 * some events carry a supersede key), one write statement, COMMIT. Each row's `txid` (its
 * column default) is what new-event folds compare with their watermark snapshot (ADR 0019).
 */
export async function insertEventBatch(
  pool: Pool,
  partitions: EventPartitions,
  orgId: string,
  events: readonly NewEvent[],
  hourOf: (ts: number) => number,
  now: number,
): Promise<InsertEventsResult> {
  // The first occurrence of an id within the batch is the one stored; later ones are duplicates.
  const firstIndexById = new Map<string, number>();
  events.forEach((event, index) => {
    if (!firstIndexById.has(event.id)) firstIndexById.set(event.id, index);
  });
  const candidates = [...firstIndexById.values()].map((index) => events[index] as NewEvent);
  if (candidates.length === 0) return { inserted: [], dirtyHours: [] };
  await partitions.ensureFor(candidates.map((event) => event.ts));

  // Claimed in id order: concurrent batches sharing ids then wait on each other in one
  // direction only, instead of deadlocking on ids they hold in opposite orders.
  const claimOrder = [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  return inTransaction(pool, async (client) => {
    const claimed = await client.query<{ id: string }>(
      `INSERT INTO event_ids (org_id, id, ts)
       SELECT $1, u.id, u.ts FROM unnest($2::text[], $3::bigint[]) AS u(id, ts)
       ON CONFLICT DO NOTHING RETURNING id`,
      [orgId, textArray(claimOrder.map((event) => event.id)), numberArray(claimOrder.map((event) => event.ts))],
    );
    const fresh = new Set(claimed.rows.map((row) => row.id));
    const inserted = events.map((event, index) => fresh.has(event.id) && firstIndexById.get(event.id) === index);
    const newEvents = candidates.filter((event) => fresh.has(event.id));
    if (newEvents.length === 0) return { inserted, dirtyHours: [] };

    const keyed: SupersedeCandidate[] = [];
    for (const event of newEvents) {
      const supersedeKey = encodeSupersedeKey(event.supersedeKey);
      if (supersedeKey !== null) keyed.push({ id: event.id, ts: event.ts, supersedeKey });
    }
    const plan = await planSupersede(client, orgId, keyed, now);
    const dirtyHours = dirtyHoursAfterInsert(newEvents.map((event) => event.ts), plan.outcomes, hourOf);
    const refold = new Set(refoldHoursAfterInsert(plan.outcomes, hourOf));
    await writeBatch(client, orgId, newEvents, plan, { hours: dirtyHours, refold }, now);
    return { inserted, dirtyHours };
  });
}

/**
 * The rows, the superseded flips, the new key winners and the dirty hours in one statement (one
 * round trip, one parse): data-modifying CTEs all run, each against the snapshot taken before
 * the statement, which is all they need since none of them touches a row another one writes.
 */
async function writeBatch(
  client: PoolClient,
  orgId: string,
  events: readonly NewEvent[],
  plan: SupersedePlan,
  dirty: { hours: readonly number[]; refold: ReadonlySet<number> },
  now: number,
): Promise<void> {
  // Attributes travel as one JSON array (a single native JSON.stringify, split server-side by
  // json_array_elements) and are zipped by position with the column arrays.
  await client.query(
    `WITH inserted AS (
       INSERT INTO events (org_id, id, type, ts, received_at, project, tag, attrs, supersede_key, superseded)
       SELECT $1, u.id, u.type, u.ts, $2, u.project, u.tag, u.attrs, u.supersede_key, u.superseded
         FROM ROWS FROM (
           unnest($3::text[]), unnest($4::text[]), unnest($5::bigint[]), unnest($6::text[]), unnest($7::text[]),
           json_array_elements($8::json), unnest($9::text[]), unnest($10::boolean[])
         ) AS u(id, type, ts, project, tag, attrs, supersede_key, superseded)
     ), ${SUPERSEDE_WRITES}, dirty AS (
       INSERT INTO dirty_hours (org_id, hour_start, generation, refold)
       SELECT $1, h, nextval('dirty_generation_seq'), r FROM unnest($17::bigint[], $18::boolean[]) WITH ORDINALITY AS u(h, r, n) ORDER BY n
       ON CONFLICT (org_id, hour_start) DO UPDATE SET generation = EXCLUDED.generation, refold = dirty_hours.refold OR EXCLUDED.refold
     )
     SELECT 1`,
    [
      orgId,
      now,
      textArray(events.map((event) => event.id)),
      textArray(events.map((event) => event.type)),
      numberArray(events.map((event) => event.ts)),
      textArray(events.map((event) => event.project)),
      textArray(events.map((event) => event.tag)),
      JSON.stringify(events.map((event) => event.attrs)),
      textArray(events.map((event) => encodeSupersedeKey(event.supersedeKey))),
      `{${events.map((event) => (plan.losers.has(event.id) ? 't' : 'f')).join(',')}}`,
      ...supersedeWriteParams(plan),
      numberArray(dirty.hours),
      `{${dirty.hours.map((hour) => (dirty.refold.has(hour) ? 't' : 'f')).join(',')}}`,
    ],
  );
}
