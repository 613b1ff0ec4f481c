import { expect } from 'vitest';
import type { seriesResponse, summaryResponse } from '../../src/http/query.schemas.ts';
import { apiValue, expectClose, expectQuantile, groupBy, ORACLE_METRICS, readings, total, within, type OracleEvent } from './oracle.ts';

/** Assertions comparing summary and series answers with the oracle. */

export const METRIC_LIST = ORACLE_METRICS.join(',');
export const DISTRIBUTIONS = ['request_latency_ms', 'llm.latency_ms'];

export type Summary = ReturnType<typeof summaryResponse.parse>;
export type Series = ReturnType<typeof seriesResponse.parse>;

export function checkSummary(body: Summary, events: readonly OracleEvent[], from: number, to: number, filter: { project?: string; tag?: string } = {}): void {
  expect(body.summary.map((item) => item.metric_name)).toEqual(ORACLE_METRICS);
  for (const item of body.summary) {
    const expected = total(item.metric_name, within(readings(events, item.metric_name, filter), from, to));
    const label = `${item.metric_name} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`;
    expect(item.total_count, `${label} count`).toBe(expected.count);
    expectClose(item.total_value, apiValue(expected), `${label} value`);
    expectClose(item.min_value, expected.min, `${label} min`);
    expectClose(item.max_value, expected.max, `${label} max`);
    expectClose(item.average_value, expected.count ? expected.sum / expected.count : null, `${label} avg`);
    if (DISTRIBUTIONS.includes(item.metric_name)) {
      expectQuantile(item.p50_value, expected.sorted, 0.5, `${label} p50`);
      expectQuantile(item.p95_value, expected.sorted, 0.95, `${label} p95`);
      expectQuantile(item.p99_value, expected.sorted, 0.99, `${label} p99`);
    } else {
      expect(item).not.toHaveProperty('p50_value');
    }
  }
}

export function checkSeries(body: Series, events: readonly OracleEvent[], from: number, to: number, labelOf: (ts: number) => string, pointLabel: (timestamp: string) => string): void {
  for (const entry of body.series) {
    const list = within(readings(events, entry.metric_name), from, to);
    const expectedTotal = total(entry.metric_name, list);
    expect(entry.total_count, `${entry.metric_name} total count`).toBe(expectedTotal.count);
    expectClose(entry.total_value, apiValue(expectedTotal), `${entry.metric_name} total`);
    const groups = groupBy(list, (r) => labelOf(r.ts));
    const seen = new Set<string>();
    for (const point of entry.data) {
      const label = pointLabel(point.timestamp);
      seen.add(label);
      const expected = total(entry.metric_name, groups.get(label) ?? []);
      expect(point.count, `${entry.metric_name} @ ${label} count`).toBe(expected.count);
      expectClose(point.value, apiValue(expected), `${entry.metric_name} @ ${label}`);
      if (DISTRIBUTIONS.includes(entry.metric_name)) expectQuantile(point.p95_value, expected.sorted, 0.95, `${entry.metric_name} @ ${label} p95`);
    }
    for (const label of groups.keys()) expect(seen.has(label), `${entry.metric_name}: data at ${label} has a point`).toBe(true);
  }
}

