import type { RollupKey, RollupRow } from '../domain/rollup-types.ts';

function keyString(k: RollupKey): string {
  return `${k.granularity}\u0000${k.bucketStart}\u0000${k.metric}\u0000${k.project}\u0000${k.tag}\u0000${k.dimName}\u0000${k.dimValue}`;
}

/** Same checks on both engines: rows of another org or a key listed twice are caller bugs. */
export function assertRowChanges(orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]): void {
  const seen = new Set<string>();
  for (const key of upserts.length === 0 ? deletes : deletes.length === 0 ? upserts : [...upserts, ...deletes]) {
    if (key.orgId !== orgId) throw new Error(`writeRollupRows(${orgId}): row of org ${key.orgId}`);
    const id = keyString(key);
    if (seen.has(id)) throw new Error(`writeRollupRows(${orgId}): key ${key.granularity}/${key.bucketStart}/${key.metric}/${key.dimName}=${key.dimValue} listed twice`);
    seen.add(id);
  }
}

