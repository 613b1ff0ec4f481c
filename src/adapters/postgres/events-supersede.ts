import type { PoolClient } from 'pg';
import { resolveSupersede, type SupersedeContender, type SupersedeOutcome } from '../../domain/supersede.ts';
import { numberArray, textArray } from './array-literals.ts';

/** Supersede keys are serialised through this many advisory locks per org (bounded lock-table use). */
const SUPERSEDE_LOCK_BUCKETS = 256;

export interface SupersedeCandidate {
  id: string;
  ts: number;
  /** Already encoded for storage (see encodeSupersedeKey). */
  supersedeKey: string;
}

/** The writes the domain's supersede rule asks for, in the shape of the batch statement. */
export interface SupersedePlan {
  /** New events that lose to another event of their key: stored with superseded = true. */
  losers: Set<string>;
  /** Previous winners that a new event beats: their flags flip to superseded. */
  dethroned: SupersedeContender[];
  /** The winner of each key whose winner changed. */
  newHeads: Array<SupersedeContender & { key: string }>;
  /** One per key, for the dirty hours (domain dirtyHoursAfterInsert). */
  outcomes: Array<SupersedeOutcome<SupersedeContender>>;
}

/**
 * Reads the stored head of each key the batch touches and lets the domain's rule
 * (domain/supersede.ts) decide. Runs inside the insert transaction and first takes advisory
 * locks for the keys' buckets, so concurrent batches touching the same key take turns and each
 * sees the other's committed head.
 */
export async function planSupersede(
  client: PoolClient,
  orgId: string,
  candidates: readonly SupersedeCandidate[],
  receivedAt: number,
): Promise<SupersedePlan> {
  const plan: SupersedePlan = { losers: new Set(), dethroned: [], newHeads: [], outcomes: [] };
  const byKey = new Map<string, SupersedeCandidate[]>();
  for (const candidate of candidates) {
    const group = byKey.get(candidate.supersedeKey);
    if (group === undefined) byKey.set(candidate.supersedeKey, [candidate]);
    else group.push(candidate);
  }
  if (byKey.size === 0) return plan;
  const keys = [...byKey.keys()];

  await client.query(
    `SELECT pg_advisory_xact_lock(hashtext($1), bucket)
       FROM (SELECT DISTINCT abs(hashtext(k) % $3) AS bucket FROM unnest($2::text[]) AS k ORDER BY 1) AS buckets`,
    [orgId, textArray(keys), SUPERSEDE_LOCK_BUCKETS],
  );
  const stored = await client.query<{ supersede_key: string; id: string; ts: number; received_at: number }>(
    'SELECT supersede_key, id, ts, received_at FROM supersede_heads WHERE org_id = $1 AND supersede_key = ANY($2::text[])',
    [orgId, textArray(keys)],
  );
  const heads = new Map<string, SupersedeContender>(
    stored.rows.map((row) => [row.supersede_key, { id: row.id, ts: row.ts, receivedAt: row.received_at }]),
  );

  for (const [key, group] of byKey) {
    const outcome = resolveSupersede(heads.get(key) ?? null, group.map((candidate) => ({ id: candidate.id, ts: candidate.ts, receivedAt })));
    plan.outcomes.push(outcome);
    for (const loser of outcome.losers) plan.losers.add(loser.id);
    if (outcome.dethroned !== null) plan.dethroned.push(outcome.dethroned);
    if (outcome.headChanged) plan.newHeads.push({ key, id: outcome.winner.id, ts: outcome.winner.ts, receivedAt: outcome.winner.receivedAt });
  }
  return plan;
}

/**
 * CTEs of the batch write statement (events-insert.ts) that flip dethroned winners to superseded
 * and record the new winners; they take parameters $11-$16 (see supersedeWriteParams), both
 * no-ops for empty arrays. ids are unique per org, so `id = ANY` is exact; `ts = ANY` lets
 * PostgreSQL prune partitions.
 */
export const SUPERSEDE_WRITES = `dethroned AS (
       UPDATE events SET superseded = true WHERE org_id = $1 AND ts = ANY($11::bigint[]) AND id = ANY($12::text[])
     ), heads AS (
       INSERT INTO supersede_heads (org_id, supersede_key, id, ts, received_at)
       SELECT $1, u.key, u.id, u.ts, u.received_at
         FROM unnest($13::text[], $14::text[], $15::bigint[], $16::bigint[]) AS u(key, id, ts, received_at)
       ON CONFLICT (org_id, supersede_key)
       DO UPDATE SET id = EXCLUDED.id, ts = EXCLUDED.ts, received_at = EXCLUDED.received_at
     )`;

export function supersedeWriteParams(plan: SupersedePlan): string[] {
  return [
    numberArray(plan.dethroned.map((d) => d.ts)),
    textArray(plan.dethroned.map((d) => d.id)),
    textArray(plan.newHeads.map((h) => h.key)),
    textArray(plan.newHeads.map((h) => h.id)),
    numberArray(plan.newHeads.map((h) => h.ts)),
    numberArray(plan.newHeads.map((h) => h.receivedAt)),
  ];
}
