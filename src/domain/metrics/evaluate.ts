import { metricEventTypes, type Condition, type MetricDefinition } from './definition.ts';
import { distinctHash } from '../distinct-sketch.ts';
import type { AttributeValue, Attributes } from '../event.ts';
import type { Granularity, RollupRow } from '../rollup-types.ts';
import { ALL_SCOPES_PROJECT, ALL_SCOPES_TAG, MISSING_DIMENSION_VALUE } from '../rollup-types.ts';
import { GAUGE_EVENT, gaugeMetricFor } from './catalog.ts';
import { PartialTable } from '../rollup-math.ts';

/**
 * The one place that decides which metrics an event feeds, with what value and which
 * dimension values. The aggregator and the live endpoints both go through it, so a stored
 * rollup and a live answer can never disagree on what counts.
 *
 * `where` semantics: a plain value means equality; `eq`/`ne`/`in` compare like equality;
 * `gte`/`gt`/`lte`/`lt` need a finite number (numeric strings are read as numbers). Equality is
 * strict within a type and textual across types (`404` matches `"404"`); a `null` condition
 * matches an absent or null attribute. Valued metrics skip events whose value attribute is not
 * a finite number (or numeric string); counters count 1 per matching event; unique metrics pass
 * the hash of their attribute's value (events without one do not match).
 */

export interface EvaluableEvent {
  type: string;
  ts: number;
  project: string;
  tag: string;
  attrs: Attributes;
  orgId?: string;
}

export interface CompiledMetric {
  readonly definition: MetricDefinition;
  /** Dense index, stable for the life of the compiled set (dynamic gauges are appended). */
  readonly index: number;
  readonly dimensions: readonly string[];
  /** The value this event contributes, or undefined when it does not match. */
  valueOf(attrs: Attributes): number | undefined;
}

export interface MetricMatch {
  metric: MetricDefinition;
  value: number;
  /** Aligned with `metric.dimensions`. */
  dimensionValues: string[];
}

export interface CompiledMetrics {
  /** Declared definitions followed by gauges discovered so far. */
  readonly definitions: readonly MetricDefinition[];
  /** Calls `visit` once per metric the event feeds. */
  forEachMatch(event: Pick<EvaluableEvent, 'type' | 'attrs'>, visit: (metric: CompiledMetric, value: number) => void): void;
  evaluate(event: Pick<EvaluableEvent, 'type' | 'attrs'>): MetricMatch[];
  /** Gauge metrics created for gauge events that no declared metric reads. */
  discoveredGauges(): MetricDefinition[];
}

export interface CompileOptions {
  /** Create one gauge metric per distinct gauge name not covered by a declared metric (default true). */
  dynamicGauges?: boolean;
}

type Predicate = (value: AttributeValue | undefined) => boolean;

function sameValue(actual: AttributeValue | undefined, expected: AttributeValue | undefined): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined;
  if (actual === null || actual === undefined) return false;
  if (typeof actual === typeof expected) return actual === expected;
  return String(actual) === String(expected);
}

/** Finite number from a number or a numeric string; undefined otherwise. */
export function numericValue(value: AttributeValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function dimensionValue(value: AttributeValue | undefined): string {
  return value === null || value === undefined ? MISSING_DIMENSION_VALUE : String(value);
}

function compileCondition(condition: Condition): Predicate {
  if (condition === null || typeof condition !== 'object') {
    return (v) => sameValue(v, condition);
  }
  const checks: Predicate[] = [];
  const { in: members, eq, ne, gte, gt, lte, lt } = condition;
  if (members !== undefined) checks.push((v) => members.some((m) => sameValue(v, m)));
  if (eq !== undefined) checks.push((v) => sameValue(v, eq));
  if (ne !== undefined) checks.push((v) => !sameValue(v, ne));
  const bound = (limit: number | undefined, test: (n: number, limit: number) => boolean): void => {
    if (limit === undefined) return;
    checks.push((v) => {
      const n = numericValue(v);
      return n !== undefined && test(n, limit);
    });
  };
  bound(gte, (n, l) => n >= l);
  bound(gt, (n, l) => n > l);
  bound(lte, (n, l) => n <= l);
  bound(lt, (n, l) => n < l);
  return (v) => checks.every((check) => check(v));
}

/** `matchOn` is what is evaluated; it differs from `definition` only for discovered gauges. */
function compileMetric(definition: MetricDefinition, index: number, matchOn: MetricDefinition = definition): CompiledMetric {
  const conditions = Object.entries(matchOn.where ?? {}).map(
    ([attribute, condition]) => [attribute, compileCondition(condition)] as const,
  );
  const valueAttribute = definition.kind === 'counter' ? undefined : definition.value;
  const unique = definition.kind === 'unique';
  if (definition.kind !== 'counter' && valueAttribute === undefined) {
    throw new Error(`metric "${definition.name}" (${definition.kind}) needs a value attribute`);
  }
  return {
    definition,
    index,
    dimensions: definition.dimensions,
    valueOf(attrs) {
      for (const [attribute, test] of conditions) {
        if (!test(attrs[attribute])) return undefined;
      }
      if (valueAttribute === undefined) return 1;
      return unique ? distinctHash(attrs[valueAttribute]) : numericValue(attrs[valueAttribute]);
    },
  };
}

export function compileMetrics(definitions: readonly MetricDefinition[], options: CompileOptions = {}): CompiledMetrics {
  const dynamicGauges = options.dynamicGauges ?? true;
  const all: CompiledMetric[] = [];
  const byType = new Map<string, CompiledMetric[]>();
  const names = new Set<string>();
  for (const definition of definitions) {
    if (names.has(definition.name)) throw new Error(`metric "${definition.name}" is defined twice`);
    const compiled = compileMetric(definition, all.length);
    all.push(compiled);
    names.add(definition.name);
    for (const type of metricEventTypes(definition)) {
      const list = byType.get(type) ?? [];
      list.push(compiled);
      byType.set(type, list);
    }
  }
  const declaredCount = all.length;
  const gaugesByRawName = new Map<string, CompiledMetric | null>();
  const gaugesByName = new Map<string, CompiledMetric>();
  /** Raw names are resolved by gaugeFor, so the compiled form matches on nothing but `value`. */
  const registerGauge = (definition: MetricDefinition): CompiledMetric => {
    const compiled = compileMetric(definition, all.length, { ...definition, where: undefined });
    all.push(compiled);
    names.add(definition.name);
    gaugesByName.set(definition.name, compiled);
    return compiled;
  };

  /** Gauge for a reading no declared metric took; a name clash gets a `gauge.` prefix. */
  const gaugeFor = (attrs: Attributes): CompiledMetric | null => {
    const rawName = attrs['name'];
    if (typeof rawName !== 'string') return null;
    let compiled = gaugesByRawName.get(rawName);
    if (compiled !== undefined) return compiled;
    const derived = gaugeMetricFor({ type: GAUGE_EVENT, attrs });
    compiled = null;
    if (derived !== null) {
      const prefixed = `gauge.${derived.name}`.slice(0, 100);
      compiled = gaugesByName.get(derived.name) ?? gaugesByName.get(prefixed) ?? null;
      if (compiled === null && !names.has(derived.name)) compiled = registerGauge(derived);
      else if (compiled === null && !names.has(prefixed)) compiled = registerGauge({ ...derived, name: prefixed });
    }
    gaugesByRawName.set(rawName, compiled);
    return compiled;
  };

  const forEachMatch: CompiledMetrics['forEachMatch'] = (event, visit) => {
    const candidates = byType.get(event.type);
    const attrs = event.attrs;
    let declaredGaugeMatched = false;
    if (candidates !== undefined) {
      for (const metric of candidates) {
        const value = metric.valueOf(attrs);
        if (value === undefined) continue;
        if (metric.definition.kind === 'gauge') declaredGaugeMatched = true;
        visit(metric, value);
      }
    }
    if (dynamicGauges && event.type === GAUGE_EVENT && !declaredGaugeMatched) {
      const gauge = gaugeFor(attrs);
      const value = gauge?.valueOf(attrs);
      if (gauge && value !== undefined) visit(gauge, value);
    }
  };

  return {
    get definitions() {
      return all.map((m) => m.definition);
    },
    forEachMatch,
    evaluate(event) {
      const matches: MetricMatch[] = [];
      forEachMatch(event, (metric, value) => {
        matches.push({
          metric: metric.definition,
          value,
          dimensionValues: metric.dimensions.map((d) => dimensionValue(event.attrs[d])),
        });
      });
      return matches;
    },
    discoveredGauges() {
      return all.slice(declaredCount).map((m) => m.definition);
    },
  };
}

// ---- aggregation ------------------------------------------------------------------------

interface GroupKey {
  orgId: string;
  bucketStart: number;
  project: string;
  tag: string;
}

/** Per metric, the slots of the group being accumulated; reused from group to group. */
interface MetricState {
  metric: CompiledMetric;
  global: number;
  /** Whether the metric has dimension slots open in the current (org, bucket). */
  dimensionsOpen: boolean;
  byDimension: Map<string, number>[];
  /** Aligned with `byDimension`: whether this run builds that dimension's rows. */
  wanted: boolean[];
}

function findGroup(groups: readonly GroupKey[], list: readonly number[], orgId: string, project: string, tag: string): number {
  for (const g of list) {
    const group = groups[g] as GroupKey;
    if (group.orgId === orgId && group.project === project && group.tag === tag) return g;
  }
  return -1;
}

function keyedGroups(groups: readonly GroupKey[], list: readonly number[]): Map<string, number> {
  const keyed = new Map<string, number>();
  for (const g of list) {
    const group = groups[g] as GroupKey;
    keyed.set(`${group.orgId}\u0000${group.project}\u0000${group.tag}`, g);
  }
  return keyed;
}

/**
 * Event indexes ordered by group (a counting sort), so each group is accumulated and emitted
 * on its own: memory holds one group's partials at a time, whatever order events come in.
 */
function orderByGroup(events: readonly EvaluableEvent[], bucketOf: (ts: number) => number): { groups: GroupKey[]; order: Int32Array; ends: Int32Array } {
  const groups: GroupKey[] = [];
  // Per bucket, its groups: a short list scanned in place, no key string built per event; a
  // bucket with many (org, project, tag) groups switches to a keyed map.
  const byBucket = new Map<number, { list: number[]; keyed: Map<string, number> | null }>();
  const groupOf = new Int32Array(events.length);
  let last: GroupKey | undefined;
  let lastIndex = -1;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as EvaluableEvent;
    const orgId = event.orgId ?? '';
    const { project, tag } = event;
    const bucketStart = bucketOf(event.ts);
    if (last === undefined || last.bucketStart !== bucketStart || last.project !== project || last.tag !== tag || last.orgId !== orgId) {
      let bucket = byBucket.get(bucketStart);
      if (bucket === undefined) {
        bucket = { list: [], keyed: null };
        byBucket.set(bucketStart, bucket);
      }
      const key = bucket.keyed === null ? '' : `${orgId}\u0000${project}\u0000${tag}`;
      lastIndex = bucket.keyed === null ? findGroup(groups, bucket.list, orgId, project, tag) : (bucket.keyed.get(key) ?? -1);
      if (lastIndex < 0) {
        lastIndex = groups.length;
        groups.push({ orgId, bucketStart, project, tag });
        bucket.list.push(lastIndex);
        if (bucket.keyed !== null) bucket.keyed.set(key, lastIndex);
        else if (bucket.list.length > 16) bucket.keyed = keyedGroups(groups, bucket.list);
      }
      last = groups[lastIndex];
    }
    groupOf[i] = lastIndex;
  }
  // Renumber so the groups of one (org, bucket) are adjacent: its dimension rows span them.
  const byBucketOrder = groups.map((_, g) => g).sort((a, b) => {
    const x = groups[a] as GroupKey;
    const y = groups[b] as GroupKey;
    return x.bucketStart - y.bucketStart || (x.orgId < y.orgId ? -1 : x.orgId > y.orgId ? 1 : a - b);
  });
  const rank = new Int32Array(groups.length);
  byBucketOrder.forEach((g, position) => (rank[g] = position));
  for (let i = 0; i < events.length; i++) groupOf[i] = rank[groupOf[i] as number] as number;
  const ordered = byBucketOrder.map((g) => groups[g] as GroupKey);
  groups.length = 0;
  for (const group of ordered) groups.push(group);
  const ends = new Int32Array(groups.length);
  for (let i = 0; i < events.length; i++) ends[groupOf[i] as number]! += 1;
  for (let g = 1; g < groups.length; g++) ends[g]! += ends[g - 1] as number;
  const order = new Int32Array(events.length);
  const cursor = Int32Array.from(ends);
  for (let i = events.length - 1; i >= 0; i--) {
    const g = groupOf[i] as number;
    cursor[g]! -= 1;
    order[cursor[g] as number] = i;
  }
  return { groups, order, ends };
}

/**
 * Rollup rows of `events`, handed to `emit` one by one so a caller can stream them into a
 * store: per (org, bucket, metric, project, tag) a global row (dimName ''), and per (org,
 * bucket, metric) one row per declared dimension value with project and tag
 * ALL_SCOPES_PROJECT / ALL_SCOPES_TAG — dimension rows are not split by project × tag
 * (ADR 0006: that split multiplied the rows; a question filtering on a project or tag and a
 * dimension at once is answered from raw events). Sketches only on distribution metrics, last
 * readings only on gauges. Metrics that no event fed get no row (not a zero row).
 */
export function forEachAggregatedRow(
  input: Iterable<EvaluableEvent>,
  compiled: CompiledMetrics,
  bucketOf: (ts: number) => number,
  granularity: Granularity,
  emit: (row: RollupRow) => void,
  rows: RowSelection = {},
): void {
  // A query's raw edge wants the global rows or one dimension's: building every dimension's
  // partials (sketches included) for rows it drops was most of the cost of a live edge.
  const dimensionWanted = (name: string): boolean => rows.dimension === undefined || rows.dimension === name;
  const events = Array.isArray(input) ? (input as readonly EvaluableEvent[]) : Array.from(input);
  const { groups, order, ends } = orderByGroup(events, bucketOf);
  // Global partials live for one group; dimension partials for every group of one (org, bucket).
  const table = new PartialTable();
  const dimensionTable = new PartialTable();
  const states: (MetricState | undefined)[] = [];
  const touched: MetricState[] = [];
  const dimensionsTouched: MetricState[] = [];
  let ts = 0;
  let attrs: Attributes = {};

  const visit = (metric: CompiledMetric, value: number): void => {
    const kind = metric.definition.kind;
    let state = states[metric.index];
    if (state === undefined) {
      state = {
        metric,
        global: -1,
        dimensionsOpen: false,
        byDimension: metric.dimensions.map(() => new Map<string, number>()),
        wanted: metric.dimensions.map((name) => rows.dimension !== null && dimensionWanted(name)),
      };
      states[metric.index] = state;
    }
    if (state.global < 0) {
      state.global = table.open(kind);
      touched.push(state);
    }
    table.add(state.global, value, ts);
    const dimensions = metric.dimensions;
    if (dimensions.length === 0) return;
    const wantedIndex = state.wanted;
    if (!state.dimensionsOpen) {
      state.dimensionsOpen = true;
      dimensionsTouched.push(state);
    }
    for (let i = 0; i < dimensions.length; i++) {
      if (!wantedIndex[i]) continue;
      const byValue = state.byDimension[i] as Map<string, number>;
      const raw = attrs[dimensions[i] as string];
      const key = raw === null || raw === undefined ? MISSING_DIMENSION_VALUE : String(raw);
      let slot = byValue.get(key);
      if (slot === undefined) {
        slot = dimensionTable.open(kind);
        byValue.set(key, slot);
      }
      dimensionTable.add(slot, value, ts);
    }
  };

  const emitRow = (partials: PartialTable, group: GroupKey, scope: 'own' | 'all', metric: string, dimName: string, dimValue: string, slot: number): void => {
    const p = partials.partial(slot);
    // One literal shape for every row keeps V8 objects small; a spread would not.
    emit({
      orgId: group.orgId,
      granularity,
      bucketStart: group.bucketStart,
      metric,
      project: scope === 'own' ? group.project : ALL_SCOPES_PROJECT,
      tag: scope === 'own' ? group.tag : ALL_SCOPES_TAG,
      dimName,
      dimValue,
      count: p.count,
      sum: p.sum,
      min: p.min,
      max: p.max,
      sketch: p.sketch,
      lastValue: p.lastValue,
      lastTs: p.lastTs,
      hll: p.hll,
    });
  };

  const emitDimensions = (group: GroupKey): void => {
    for (const state of dimensionsTouched) {
      const metric = state.metric.definition.name;
      state.byDimension.forEach((byValue, i) => {
        const dimName = state.metric.dimensions[i] as string;
        for (const [dimValue, slot] of byValue) emitRow(dimensionTable, group, 'all', metric, dimName, dimValue, slot);
        byValue.clear();
      });
      state.dimensionsOpen = false;
    }
    dimensionsTouched.length = 0;
    dimensionTable.reset();
  };

  let begin = 0;
  groups.forEach((group, g) => {
    const end = ends[g] as number;
    for (let k = begin; k < end; k++) {
      const event = events[order[k] as number] as EvaluableEvent;
      ts = event.ts;
      attrs = event.attrs;
      compiled.forEachMatch(event, visit);
    }
    begin = end;
    for (const state of touched) {
      emitRow(table, group, 'own', state.metric.definition.name, '', '', state.global);
      state.global = -1;
    }
    touched.length = 0;
    table.reset();
    // Groups come ordered by (org, bucket): the last group of one closes its dimension rows.
    const next = groups[g + 1];
    if (next === undefined || next.bucketStart !== group.bucketStart || next.orgId !== group.orgId) emitDimensions(group);
  });
}

/**
 * Which rows to build: every row (the aggregator), the global rows only (`dimension: null`),
 * or the global rows and one dimension's.
 */
export interface RowSelection {
  dimension?: string | null;
}

/** All rollup rows of `events` as an array; see `forEachAggregatedRow`. */
export function aggregateEvents(
  events: Iterable<EvaluableEvent>,
  compiled: CompiledMetrics,
  bucketOf: (ts: number) => number,
  granularity: Granularity = 'hour',
  selection: RowSelection = {},
): RollupRow[] {
  const rows: RollupRow[] = [];
  forEachAggregatedRow(events, compiled, bucketOf, granularity, (row) => rows.push(row), selection);
  return rows;
}
