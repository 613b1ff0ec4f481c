import type { RollupRow } from '../../src/domain/rollup-types.ts';
import { FACTORY_BASE_TS } from './event.ts';

/** A global counter row in an hour bucket; override anything. */
export function makeRollupRow(overrides: Partial<RollupRow> & { orgId: string }): RollupRow {
  return {
    granularity: 'hour',
    bucketStart: FACTORY_BASE_TS,
    metric: 'llm_calls',
    project: 'default',
    tag: '',
    dimName: '',
    dimValue: '',
    count: 1,
    sum: 1,
    min: 1,
    max: 1,
    sketch: null,
    lastValue: null,
    lastTs: null,
    hll: null,
    ...overrides,
  };
}

/** Stable order for comparing row sets regardless of the order an engine returns them in. */
export function sortRollupRows(rows: readonly RollupRow[]): RollupRow[] {
  const key = (r: RollupRow) =>
    [r.granularity, String(r.bucketStart).padStart(16, '0'), r.metric, r.project, r.tag, r.dimName, r.dimValue].join('\u0000');
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
