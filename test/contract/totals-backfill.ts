import { encodePack } from '../../src/adapters/rollup-pack-codec.ts';
import { mergeAllPartials } from '../../src/domain/rollup-math.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';
import { encodeValues } from '../../src/domain/sketch.ts';
import { makeRollupRow } from '../factories/index.ts';

/**
 * Data for migration 063's backfill (ADR 0024), shared by both engines' specifics: rows written
 * through the adapter (packs with and without an all-scopes entry, a dimension pack), plus one
 * global pack as written before ADR 0013 — two scopes and no merged entry — for the test to
 * insert with its engine's SQL. `expected` is the merging read of every metric, computed here.
 */
export function totalsBackfillCase(orgId: string, hour: number) {
  const latency = (values: number[], project: string) =>
    makeRollupRow({ orgId, bucketStart: hour, metric: 'latency', project, count: values.length, sum: values.reduce((a, b) => a + b, 0), min: Math.min(...values), max: Math.max(...values), sketch: encodeValues(values) });
  const written: RollupRow[] = [
    latency([1, 2, 3], 'a'),
    latency([7], 'b'),
    makeRollupRow({ orgId, bucketStart: hour, metric: 'calls', project: 'a', count: 3, sum: 3 }),
    makeRollupRow({ orgId, bucketStart: hour, metric: 'calls', project: '', dimName: 'model', dimValue: 'm', count: 3, sum: 3 }),
    makeRollupRow({ orgId, bucketStart: hour + 3_600_000, metric: 'calls', project: 'a', count: 2, sum: 2 }),
  ];
  const oldScopes = [
    makeRollupRow({ orgId, bucketStart: hour, metric: 'old', project: 'a', count: 2, sum: 5, min: 2, max: 3 }),
    makeRollupRow({ orgId, bucketStart: hour, metric: 'old', project: 'b', count: 1, sum: 4, min: 4, max: 4 }),
  ];
  const oldPack = { bucketStart: hour, metric: 'old', dimName: '', valueCount: 2, packed: encodePack(oldScopes) };
  const merged = (rows: RollupRow[]) => ({ ...rows[0]!, project: '', tag: '', ...mergeAllPartials(rows) });
  const expected = [
    merged(written.filter((r) => r.bucketStart === hour && r.metric === 'calls' && r.dimName === '')),
    merged(written.filter((r) => r.metric === 'latency')),
    merged(oldScopes),
    merged(written.filter((r) => r.bucketStart === hour + 3_600_000)),
  ];
  return { written, oldPack, expected };
}
