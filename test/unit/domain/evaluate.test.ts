import { describe, expect, it } from 'vitest';
import {
  aggregateEvents,
  compileMetrics,
  RollupAccumulator,
  type EvaluableEvent,
} from '../../../src/domain/metrics/evaluate.ts';
import type { Condition, MetricDefinition, MetricKind } from '../../../src/domain/metrics/definition.ts';
import type { Attributes, AttributeValue } from '../../../src/domain/event.ts';
import { BUILTIN_METRICS } from '../../../src/domain/metrics/catalog.ts';
import { MISSING_DIMENSION_VALUE, type RollupRow } from '../../../src/domain/rollup-types.ts';
import { floorBucket } from '../../../src/domain/time-buckets.ts';
import { toStats } from '../../../src/domain/rollup-math.ts';
import { exactQuantile, expectWithinRelative, normal, pick, seededRandom } from './random.ts';

function def(overrides: Partial<MetricDefinition> & { name: string }): MetricDefinition {
  return { kind: 'counter', event: 'thing', dimensions: [], unit: 'count', category: 'test', description: '', ...overrides };
}

function event(type: string, attrs: Attributes, ts = 0): EvaluableEvent {
  return { type, attrs, ts, project: 'default', tag: '' };
}

describe('where conditions', () => {
  const cases: Array<[string, Condition, AttributeValue | undefined, boolean]> = [
    ['equality', 'COMPLETED', 'COMPLETED', true],
    ['equality is case-sensitive', 'COMPLETED', 'completed', false],
    ['equality on an absent attribute', 'COMPLETED', undefined, false],
    ['number equals its text', 404, '404', true],
    ['text equals its number', '404', 404, true],
    ['boolean', true, true, true],
    ['boolean against its text', true, 'true', true],
    ['boolean mismatch', true, false, false],
    ['null matches absent', null, undefined, true],
    ['null matches null', null, null, true],
    ['null does not match a value', null, 'x', false],
    ['eq', { eq: 'api' }, 'api', true],
    ['ne', { ne: 'api' }, 'etl', true],
    ['ne on the same value', { ne: 'api' }, 'api', false],
    ['ne on an absent attribute', { ne: 'api' }, undefined, true],
    ['in', { in: ['a', 'b'] }, 'b', true],
    ['in, not a member', { in: ['a', 'b'] }, 'c', false],
    ['in with null member', { in: [null] }, undefined, true],
    ['gte at the limit', { gte: 400 }, 400, true],
    ['gte below', { gte: 400 }, 399, false],
    ['gte on numeric text', { gte: 400 }, '503', true],
    ['gte on other text', { gte: 400 }, 'error', false],
    ['gte on absent', { gte: 400 }, undefined, false],
    ['gte on boolean', { gte: 0 }, true, false],
    ['gt at the limit', { gt: 400 }, 400, false],
    ['lt', { lt: 400 }, 200, true],
    ['lte at the limit', { lte: 400 }, 400, true],
    ['range inside', { gte: 400, lt: 500 }, 404, true],
    ['range outside', { gte: 400, lt: 500 }, 500, false],
    ['membership and bound together', { in: [200, 404], gte: 300 }, 404, true],
    ['membership and bound, bound fails', { in: [200, 404], gte: 300 }, 200, false],
  ];
  it.each(cases)('%s', (_label, condition, actual, expected) => {
    const compiled = compileMetrics([def({ name: 'm', where: { field: condition } })]);
    const attrs: Attributes = actual === undefined ? {} : { field: actual };
    expect(compiled.evaluate(event('thing', attrs)).length).toBe(expected ? 1 : 0);
  });

  it('requires every condition of a where', () => {
    const compiled = compileMetrics([def({ name: 'm', where: { a: 1, b: 'x' } })]);
    expect(compiled.evaluate(event('thing', { a: 1, b: 'x' }))).toHaveLength(1);
    expect(compiled.evaluate(event('thing', { a: 1, b: 'y' }))).toHaveLength(0);
  });
});

describe('values and dimensions', () => {
  const metrics = compileMetrics([
    def({ name: 'n', kind: 'counter', dimensions: ['model', 'code'] }),
    def({ name: 's', kind: 'sum', value: 'cost' }),
    def({ name: 'other', event: 'else' }),
  ]);

  it('counts 1 per matching event and reads the value attribute of valued metrics', () => {
    const matches = metrics.evaluate(event('thing', { cost: 2.5, model: 'gpt', code: 200 }));
    expect(matches.map((m) => [m.metric.name, m.value, m.dimensionValues])).toEqual([
      ['n', 1, ['gpt', '200']],
      ['s', 2.5, []],
    ]);
  });

  it.each([
    ['absent', undefined, false],
    ['null', null, false],
    ['text', 'abc', false],
    ['empty text', '', false],
    ['boolean', true, false],
    ['NaN', Number.NaN, false],
    ['infinite', Number.POSITIVE_INFINITY, false],
    ['numeric text', '0.25', true],
    ['zero', 0, true],
    ['negative', -3, true],
  ] as const)('a %s value contributes: %s', (_label, value, contributes) => {
    const attrs: Attributes = value === undefined ? {} : { cost: value };
    const names = metrics.evaluate(event('thing', attrs)).map((m) => m.metric.name);
    expect(names.includes('s')).toBe(contributes);
    expect(names.includes('n')).toBe(true);
  });

  it('writes the missing marker for absent or null dimension attributes', () => {
    const [match] = metrics.evaluate(event('thing', { model: null }));
    expect(match?.dimensionValues).toEqual([MISSING_DIMENSION_VALUE, MISSING_DIMENSION_VALUE]);
  });

  it('ignores events of types no metric reads', () => {
    expect(metrics.evaluate(event('nothing', { cost: 1 }))).toEqual([]);
  });

  it('rejects a definition set with a repeated name', () => {
    expect(() => compileMetrics([def({ name: 'x' }), def({ name: 'x' })])).toThrow(/defined twice/);
  });
});

describe('gauges', () => {
  const declared = def({ name: 'users_total', kind: 'gauge', event: 'gauge', where: { name: 'Total Users' }, value: 'value' });

  it('creates one metric per distinct gauge name on first sight', () => {
    const compiled = compileMetrics(BUILTIN_METRICS);
    const names = (attrs: Attributes) => compiled.evaluate(event('gauge', attrs)).map((m) => [m.metric.name, m.value]);
    // (`active_users` is a built-in unique metric since issue 9, so the gauge here is another name.)
    expect(names({ name: 'Open Tickets', value: 12 })).toEqual([['open_tickets', 12]]);
    expect(names({ name: 'open_tickets', value: 13 })).toEqual([['open_tickets', 13]]);
    expect(names({ name: 'storage_bytes', value: '2048' })).toEqual([['storage_bytes', 2048]]);
    expect(names({ name: 'broken', value: 'n/a' })).toEqual([]);
    expect(compiled.discoveredGauges().map((d) => d.name)).toEqual(['open_tickets', 'storage_bytes', 'broken']);
    expect(compiled.definitions).toHaveLength(BUILTIN_METRICS.length + 3);
  });

  it('lets a declared gauge take its readings and prefixes clashing names', () => {
    const compiled = compileMetrics([...BUILTIN_METRICS, declared]);
    const names = (attrs: Attributes) => compiled.evaluate(event('gauge', attrs)).map((m) => m.metric.name);
    expect(names({ name: 'Total Users', value: 5 })).toEqual(['users_total']);
    expect(names({ name: 'requests', value: 5 })).toEqual(['gauge.requests']);
  });

  it('creates none when dynamic gauges are off', () => {
    const compiled = compileMetrics(BUILTIN_METRICS, { dynamicGauges: false });
    expect(compiled.evaluate(event('gauge', { name: 'x', value: 1 }))).toEqual([]);
  });
});

// ---- aggregation against a brute-force oracle -------------------------------------------

const ZONE = 'Europe/Zurich';
const hourOf = (ts: number) => floorBucket(ts, 'hour', ZONE);

const TEST_METRICS: MetricDefinition[] = [
  def({ name: 'calls', kind: 'counter', event: 'call', dimensions: ['model', 'status'] }),
  def({ name: 'ok_calls', kind: 'counter', event: 'call', where: { status: 'ok' }, dimensions: ['model'] }),
  def({ name: 'slow_calls', kind: 'counter', event: 'call', where: { latency: { gte: 500 } } }),
  def({ name: 'cost', kind: 'sum', event: 'call', value: 'cost', dimensions: ['model'] }),
  def({ name: 'latency', kind: 'distribution', event: 'call', value: 'latency', dimensions: ['model', 'status'] }),
  def({ name: 'queue', kind: 'gauge', event: 'reading', value: 'depth', dimensions: ['queue'] }),
];

function randomEvents(count: number, seed: number): EvaluableEvent[] {
  const random = seededRandom(seed);
  const start = Date.parse('2026-10-24T12:00:00Z'); // spans the 25-hour Zurich day
  const events: EvaluableEvent[] = [];
  for (let i = 0; i < count; i++) {
    const ts = start + Math.floor(random() * 40 * 3_600_000);
    const project = pick(random, ['default', 'p2']);
    const tag = pick(random, ['', 'beta']);
    const orgId = pick(random, ['org-a', 'org-b']);
    if (random() < 0.8) {
      const attrs: Attributes = {
        model: pick(random, ['gpt', 'claude', null]),
        status: pick(random, ['ok', 'ok', 'error']),
        latency: random() < 0.05 ? null : Math.round(Math.exp(5 + normal(random))),
        cost: random() < 0.1 ? 'unknown' : Math.round(random() * 1e6) / 1e6,
      };
      if (random() < 0.1) delete attrs['model'];
      events.push({ type: 'call', ts, project, tag, orgId, attrs });
    } else {
      events.push({ type: 'reading', ts, project, tag, orgId, attrs: { queue: pick(random, ['q1', 'q2']), depth: Math.floor(random() * 100) } });
    }
  }
  return events;
}

interface OracleGroup {
  values: number[];
  last: { value: number; ts: number } | null;
}

/** Straight from the definitions' text, without the compiled evaluator. */
function oracle(events: EvaluableEvent[]): Map<string, OracleGroup> {
  const groups = new Map<string, OracleGroup>();
  const add = (key: string, value: number, ts: number) => {
    const g = groups.get(key) ?? { values: [], last: null };
    g.values.push(value);
    if (g.last === null || ts > g.last.ts || (ts === g.last.ts && value > g.last.value)) g.last = { value, ts };
    groups.set(key, g);
  };
  for (const e of events) {
    const a = e.attrs;
    const contributions: Array<[string, number | null, string[]]> = [];
    if (e.type === 'call') {
      contributions.push(['calls', 1, ['model', 'status']]);
      if (a['status'] === 'ok') contributions.push(['ok_calls', 1, ['model']]);
      if (typeof a['latency'] === 'number' && a['latency'] >= 500) contributions.push(['slow_calls', 1, []]);
      contributions.push(['cost', typeof a['cost'] === 'number' ? a['cost'] : null, ['model']]);
      contributions.push(['latency', typeof a['latency'] === 'number' ? a['latency'] : null, ['model', 'status']]);
    } else {
      contributions.push(['queue', a['depth'] as number, ['queue']]);
    }
    for (const [metric, value, dims] of contributions) {
      if (value === null) continue;
      add([e.orgId, hourOf(e.ts), metric, e.project, e.tag, '', ''].join('|'), value, e.ts);
      // Dimension rows span every project and tag of the bucket (ADR 0006).
      for (const d of dims) add([e.orgId, hourOf(e.ts), metric, '', '', d, a[d] == null ? MISSING_DIMENSION_VALUE : String(a[d])].join('|'), value, e.ts);
    }
  }
  return groups;
}

const kindOf = new Map<string, MetricKind>(TEST_METRICS.map((m) => [m.name, m.kind]));
const rowKey = (r: RollupRow) => [r.orgId, r.bucketStart, r.metric, r.project, r.tag, r.dimName, r.dimValue].join('|');

describe('aggregateEvents', () => {
  it('equals a brute-force computation over the raw events, for every group', () => {
    const events = randomEvents(30_000, 1234);
    const rows = aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf);
    const expected = oracle(events);
    expect(new Set(rows.map(rowKey))).toEqual(new Set(expected.keys()));
    expect(rows).toHaveLength(expected.size);
    for (const row of rows) {
      const group = expected.get(rowKey(row)) as OracleGroup;
      const sorted = [...group.values].sort((x, y) => x - y);
      const kind = kindOf.get(row.metric);
      expect(row.granularity).toBe('hour');
      expect(row.count).toBe(sorted.length);
      expect(row.sum).toBeCloseTo(sorted.reduce((s, v) => s + v, 0), 6);
      expect(row.min).toBe(sorted[0]);
      expect(row.max).toBe(sorted.at(-1));
      expect(row.sketch !== null).toBe(kind === 'distribution');
      expect(row.lastValue).toBe(kind === 'gauge' ? group.last?.value : null);
      expect(row.lastTs).toBe(kind === 'gauge' ? group.last?.ts : null);
      if (kind === 'distribution') {
        const stats = toStats(row);
        expectWithinRelative(stats.p50, exactQuantile(sorted, 0.5), 0.01);
        expectWithinRelative(stats.p95, exactQuantile(sorted, 0.95), 0.01);
        expectWithinRelative(stats.p99, exactQuantile(sorted, 0.99), 0.01);
      }
    }
  });

  it('builds only the selected rows: global only, or global plus one dimension (query raw edges)', () => {
    const events = randomEvents(5_000, 4321);
    const expected = oracle(events);
    const keysWhere = (keep: (dimName: string) => boolean) =>
      new Set([...expected.keys()].filter((key) => keep(key.split('|')[5]!)));
    const globalOnly = aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf, 'hour', { dimension: null });
    expect(new Set(globalOnly.map(rowKey))).toEqual(keysWhere((dim) => dim === ''));
    const withModel = aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf, 'hour', { dimension: 'model' });
    expect(new Set(withModel.map(rowKey))).toEqual(keysWhere((dim) => dim === '' || dim === 'model'));
    for (const row of [...globalOnly, ...withModel]) {
      const group = expected.get(rowKey(row)) as OracleGroup;
      expect(row.count).toBe(group.values.length);
      expect(row.sum).toBeCloseTo(group.values.reduce((s, v) => s + v, 0), 6);
    }
  });

  it('gives the same rows whatever order the events come in', () => {
    const events = randomEvents(3000, 77);
    const random = seededRandom(5);
    const shuffled = [...events].sort(() => random() - 0.5);
    const sortRows = (rows: RollupRow[]) => [...rows].sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : 1));
    const a = sortRows(aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf));
    const b = sortRows(aggregateEvents(shuffled, compileMetrics(TEST_METRICS), hourOf));
    expect(b.map(rowKey)).toEqual(a.map(rowKey));
    b.forEach((row, i) => {
      const other = a[i] as RollupRow;
      expect([row.count, row.min, row.max, row.sketch, row.lastValue]).toEqual([other.count, other.min, other.max, other.sketch, other.lastValue]);
      expect(row.sum).toBeCloseTo(other.sum, 9);
    });
  });

  it('RollupAccumulator folds a timestamp-ordered stream into the same rows, each bucket emitted when the next one starts', () => {
    const events = randomEvents(8000, 99).sort((x, y) => x.ts - y.ts);
    const expected = aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf);
    const emitted: RollupRow[] = [];
    const accumulator = new RollupAccumulator(compileMetrics(TEST_METRICS), hourOf, 'hour', (row) => emitted.push(row));
    for (const e of events) {
      accumulator.add(e);
      // Exactly the earlier buckets' rows are out: memory holds one bucket's partials, not the stream.
      const bucket = hourOf(e.ts);
      expect(emitted.length).toBe(expected.filter((row) => row.bucketStart < bucket).length);
    }
    expect(new Set(emitted.map((row) => row.bucketStart)).size).toBeGreaterThan(10);
    accumulator.finish();
    const sortRows = (rows: RollupRow[]) => [...rows].sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : 1));
    expect(sortRows(emitted)).toEqual(sortRows(expected));
  });

  it('RollupAccumulator calls bucketOf about once per bucket, and still places events right in buckets shorter than an hour', () => {
    const events = randomEvents(8000, 7).sort((x, y) => x.ts - y.ts);
    const sortRows = (rows: RollupRow[]) => [...rows].sort((x, y) => (rowKey(x) < rowKey(y) ? -1 : 1));
    const stream = (bucketOf: (ts: number) => number) => {
      const rows: RollupRow[] = [];
      const accumulator = new RollupAccumulator(compileMetrics(TEST_METRICS), bucketOf, 'hour', (row) => rows.push(row));
      for (const e of events) accumulator.add(e);
      accumulator.finish();
      return rows;
    };
    // Zurich hours across the 25-hour day: the open hour's events skip the zone computation.
    let calls = 0;
    const hourRows = stream((ts) => {
      calls++;
      return hourOf(ts);
    });
    const hours = new Set(events.map((e) => hourOf(e.ts))).size;
    expect(calls).toBeLessThanOrEqual(3 * hours);
    expect(sortRows(hourRows)).toEqual(sortRows(aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf)));
    // Pieces as a query cuts them: a 10-minute edge, whole hours, then 20-minute pieces.
    const first = Date.parse('2026-10-24T12:00:00Z');
    const starts = [first - 3_600_000, first, first + 600_000];
    for (let t = first + 3_600_000; t < first + 20 * 3_600_000; t += 3_600_000) starts.push(t);
    for (let t = first + 20 * 3_600_000; t < first + 41 * 3_600_000; t += 1_200_000) starts.push(t);
    const pieceOf = (ts: number) => starts.filter((start) => start <= ts).at(-1)!;
    expect(sortRows(stream(pieceOf))).toEqual(sortRows(aggregateEvents(events, compileMetrics(TEST_METRICS), pieceOf)));
  });

  it('RollupAccumulator refuses an event of a bucket earlier than the open one', () => {
    const accumulator = new RollupAccumulator(compileMetrics(TEST_METRICS), hourOf, 'hour', () => {});
    accumulator.add(event('call', { model: 'gpt', status: 'ok', latency: 1, cost: 1 }, Date.parse('2026-01-01T11:00:00Z')));
    expect(() => accumulator.add(event('call', { model: 'gpt', status: 'ok', latency: 1, cost: 1 }, Date.parse('2026-01-01T10:59:59Z')))).toThrow(/bucket order/);
  });

  it('keeps the repeated Zurich 02:00 hours apart and labels rows with the granularity', () => {
    const events = [
      event('call', { model: 'gpt', status: 'ok', latency: 10, cost: 1 }, Date.parse('2026-10-25T00:30:00Z')),
      event('call', { model: 'gpt', status: 'ok', latency: 20, cost: 1 }, Date.parse('2026-10-25T01:30:00Z')),
    ];
    const rows = aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf).filter((r) => r.metric === 'calls' && r.dimName === '');
    expect(rows.map((r) => new Date(r.bucketStart).toISOString()).sort()).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z']);
    const days = aggregateEvents(events, compileMetrics(TEST_METRICS), (ts) => floorBucket(ts, 'day', ZONE), 'day');
    expect(days.find((r) => r.metric === 'calls' && r.dimName === '')).toMatchObject({ granularity: 'day', count: 2, orgId: '' });
  });

  it('keeps groups apart when one bucket holds many projects and tags', () => {
    const random = seededRandom(8);
    const events: EvaluableEvent[] = [];
    const expected = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const project = `p${Math.floor(random() * 40)}`;
      const tag = `t${Math.floor(random() * 3)}`;
      const ts = Date.parse('2026-01-01T10:00:00Z') + Math.floor(random() * 7_200_000);
      events.push({ type: 'call', ts, project, tag, orgId: 'o', attrs: { status: 'ok' } });
      const key = `${hourOf(ts)}|${project}|${tag}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const rows = aggregateEvents(events, compileMetrics(TEST_METRICS), hourOf).filter((r) => r.metric === 'calls' && r.dimName === '');
    expect(new Map(rows.map((r) => [`${r.bucketStart}|${r.project}|${r.tag}`, r.count]))).toEqual(expected);
    expect(rows).toHaveLength(expected.size);
  });

  it('accepts any iterable and answers nothing for no events', () => {
    const compiled = compileMetrics(TEST_METRICS);
    expect(aggregateEvents([], compiled, hourOf)).toEqual([]);
    function* one(): Generator<EvaluableEvent> {
      yield event('call', { status: 'ok' }, Date.parse('2026-01-01T10:00:00Z'));
    }
    expect(aggregateEvents(one(), compiled, hourOf).filter((r) => r.metric === 'calls' && r.dimName === '')).toHaveLength(1);
  });

  it('feeds built-in metrics from a realistic llm_call', () => {
    const rows = aggregateEvents(
      [event('llm_call', { usage_type: 'llm', reason: 'challenge', model: 'gpt-4o', provider: 'openai', cost_usd: 0.02, latency_ms: 800, total_tokens: 1500 })],
      compileMetrics(BUILTIN_METRICS),
      (ts) => floorBucket(ts, 'hour', 'UTC'),
    );
    const global = (metric: string) => rows.find((r) => r.metric === metric && r.dimName === '');
    expect(global('llm_calls')?.count).toBe(1);
    expect(global('challenges')?.count).toBe(1);
    expect(global('summarization_calls')).toBeUndefined();
    expect(global('llm_usage')?.sum).toBe(0.02);
    expect(global('llm.tokens')?.sum).toBe(1500);
    expect(global('llm.latency_ms')?.sketch).not.toBeNull();
    expect(rows.find((r) => r.metric === 'llm_calls' && r.dimName === 'workflow_id')?.dimValue).toBe(MISSING_DIMENSION_VALUE);
    expect(rows.filter((r) => r.metric === 'llm_calls').map((r) => r.dimName)).toEqual(['', 'model', 'provider', 'workflow_id']);
  });
});
