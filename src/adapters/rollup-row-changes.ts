import type { RollupKey, RollupRow } from '../domain/rollup-types.ts';

function keyString(k: RollupKey): string {
  return [k.granularity, k.bucketStart, k.metric, k.project, k.tag, k.dimName, k.dimValue].join('\u0000');
}

/** Same checks on both engines: rows of another org or a key listed twice are caller bugs. */
export function assertRowChanges(orgId: string, upserts: readonly RollupRow[], deletes: readonly RollupKey[]): void {
  const seen = new Set<string>();
  for (const key of [...upserts, ...deletes]) {
    if (key.orgId !== orgId) throw new Error(`writeRollupRows(${orgId}): row of org ${key.orgId}`);
    const id = keyString(key);
    if (seen.has(id)) throw new Error(`writeRollupRows(${orgId}): key ${key.granularity}/${key.bucketStart}/${key.metric}/${key.dimName}=${key.dimValue} listed twice`);
    seen.add(id);
  }
}

