import type { MetricDefinition } from '../../src/domain/metrics/definition.ts';
import { toStats } from '../../src/domain/rollup-math.ts';
import type { RollupRow } from '../../src/domain/rollup-types.ts';
import type { Storage } from '../../src/ports/storage.ts';
import { computeOracle, exactQuantile, misalignment, rowKey, type SentEvent } from './oracle.ts';
import { readAllTiers } from './support.ts';

/** Relative tolerance of the quantiles (DDSketch relative accuracy). */
const QUANTILE_TOLERANCE = 0.01;
/** Relative tolerance of distinct counts (the HyperLogLog bound the product promises). */
export const DISTINCT_TOLERANCE = 0.02;
/** Below this many distinct values the sketch is documented to be exact (its sparse form). */
export const EXACT_DISTINCT_UP_TO = 1000;

export interface OracleComparison {
  /** Stored rows checked. */
  rows: number;
  /** Human-readable differences; empty when the rollups equal the oracle. */
  problems: string[];
}

function describeRow(row: RollupRow): string {
  return `${row.granularity} ${new Date(row.bucketStart).toISOString()} ${row.metric} ${row.project}/${row.tag || '-'} ${row.dimName || 'global'}=${row.dimValue}`;
}

export interface CompareOptions {
  /** Hour rows before this instant are left out on both sides (hour retention deleted them). */
  hourRowsFrom?: number;
}

/**
 * Compares every stored rollup row of the org (all tiers) with the oracle: same set of cells,
 * exact count/sum/min/max, gauges' last reading, quantiles within 1 % of the exact rank value.
 */
export async function compareWithOracle(
  storage: Storage,
  orgId: string,
  timeZone: string,
  sent: readonly SentEvent[],
  metrics: readonly MetricDefinition[],
  options: CompareOptions = {},
): Promise<OracleComparison> {
  return compareRowsWithOracle(await readAllTiers(storage, orgId), timeZone, sent, metrics, options);
}

/** compareWithOracle over rows already read (all tiers of one org). */
export function compareRowsWithOracle(
  stored: readonly RollupRow[],
  timeZone: string,
  sent: readonly SentEvent[],
  metrics: readonly MetricDefinition[],
  options: CompareOptions = {},
): OracleComparison {
  const oracle = computeOracle(sent, metrics, timeZone);
  const hourFrom = options.hourRowsFrom ?? -Infinity;
  for (const key of [...oracle.keys()]) {
    const [granularity, label] = key.split('|');
    if (granularity === 'hour' && Number(label) < hourFrom) oracle.delete(key);
  }
  const rows = stored.filter((row) => row.granularity !== 'hour' || row.bucketStart >= hourFrom);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const what = describeRow(row);
    const misaligned = misalignment(row.bucketStart, row.granularity, timeZone);
    if (misaligned) problems.push(`${what}: bucket start ${misaligned}`);
    const key = rowKey(row, timeZone);
    if (seen.has(key)) problems.push(`${what}: duplicate row`);
    seen.add(key);
    const cell = oracle.get(key);
    if (!cell) {
      problems.push(`${what}: stored but no event feeds it (count ${row.count})`);
      continue;
    }
    if (row.count !== cell.count) problems.push(`${what}: count ${row.count}, expected ${cell.count}`);
    if (row.sum !== cell.sum) problems.push(`${what}: sum ${row.sum}, expected ${cell.sum}`);
    if (row.min !== cell.min) problems.push(`${what}: min ${row.min}, expected ${cell.min}`);
    if (row.max !== cell.max) problems.push(`${what}: max ${row.max}, expected ${cell.max}`);
    if (cell.kind === 'gauge') {
      if (row.lastValue !== cell.lastValue || row.lastTs !== cell.lastTs) {
        problems.push(`${what}: last reading ${row.lastValue}@${row.lastTs}, expected ${cell.lastValue}@${cell.lastTs}`);
      }
    }
    if (cell.kind === 'distribution') {
      if (row.sketch === null) {
        problems.push(`${what}: distribution without sketch`);
        continue;
      }
      const stats = toStats(row);
      for (const [q, got] of [[0.5, stats.p50], [0.95, stats.p95], [0.99, stats.p99]] as const) {
        const exact = exactQuantile(cell.values, q);
        if (got === null || Math.abs(got - exact) > QUANTILE_TOLERANCE * Math.abs(exact) + 1e-9) {
          problems.push(`${what}: p${q * 100} ${got}, exact ${exact}`);
        }
      }
    } else if (row.sketch !== null) {
      problems.push(`${what}: sketch on a ${cell.kind} metric`);
    }
    if (cell.kind === 'unique') {
      const exact = cell.distinct.size;
      const got = row.hll === null ? null : toStats(row).distinct;
      const tolerance = exact <= EXACT_DISTINCT_UP_TO ? 0 : DISTINCT_TOLERANCE * exact;
      if (got === null || Math.abs(got - exact) > tolerance) problems.push(`${what}: distinct ${got}, exact ${exact}`);
    } else if (row.hll !== null) {
      problems.push(`${what}: distinct sketch on a ${cell.kind} metric`);
    }
  }
  for (const key of oracle.keys()) if (!seen.has(key)) problems.push(`missing row ${key} (expected count ${oracle.get(key)!.count})`);
  return { rows: rows.length, problems };
}

/** Compact form for assertion messages: the first problems and how many there are. */
export function summarize(comparison: OracleComparison): string[] {
  const { problems } = comparison;
  return problems.length <= 20 ? problems : [...problems.slice(0, 20), `… and ${problems.length - 20} more`];
}
