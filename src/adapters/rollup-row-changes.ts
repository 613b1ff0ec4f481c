import type { RollupKey, RollupRow } from '../domain/rollup-types.ts';

/**
 * Same check on both engines: a row of another org is a caller bug. A key listed twice is one
 * too; `rewritePacks` refuses it inside the write, where each key's identity in its pack is
 * built anyway (a string per key here cost ~5 ms of a steady pass, ADR 0015).
 */
export function assertRowChanges(orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]): void {
  for (const keys of [upserts, deletes]) {
    for (const key of keys) if (key.orgId !== orgId) throw new Error(`writeRollupRows(${orgId}): row of org ${key.orgId}`);
  }
}
