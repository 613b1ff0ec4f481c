import { metricEventTypes, type Condition, type MetricDefinition, type MetricKind } from './definition.ts';
import { distinctHash } from '../distinct-sketch.ts';
import type { AttributeValue, Attributes } from '../event.ts';
import { MISSING_DIMENSION_VALUE } from '../rollup-types.ts';
import { GAUGE_EVENT, gaugeMetricFor } from './catalog.ts';

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
  /** `definition.kind`, read per event. */
  readonly kind: MetricKind;
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

function sameAsAny(actual: AttributeValue | undefined, members: readonly AttributeValue[]): boolean {
  for (let i = 0; i < members.length; i++) {
    if (sameValue(actual, members[i])) return true;
  }
  return false;
}

/** Every check of a condition object must hold; an empty object holds for anything. */
function allOf(checks: readonly Predicate[]): Predicate {
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0] as Predicate;
  return (v) => {
    for (let i = 0; i < checks.length; i++) {
      if (!(checks[i] as Predicate)(v)) return false;
    }
    return true;
  };
}

/** A predicate per condition, built once: evaluating it allocates nothing (it runs per event). */
function compileCondition(condition: Condition): Predicate {
  if (condition === null || typeof condition !== 'object') {
    return (v) => sameValue(v, condition);
  }
  const checks: Predicate[] = [];
  const { in: members, eq, ne, gte, gt, lte, lt } = condition;
  if (members !== undefined) checks.push((v) => sameAsAny(v, members));
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
  return allOf(checks);
}

/** `matchOn` is what is evaluated; it differs from `definition` only for discovered gauges. */
function compileMetric(definition: MetricDefinition, index: number, matchOn: MetricDefinition = definition): CompiledMetric {
  const where = Object.entries(matchOn.where ?? {});
  // Parallel arrays, read by index per event (no iterator, no destructuring).
  const conditionAttributes = where.map(([attribute]) => attribute);
  const conditionTests = where.map(([, condition]) => compileCondition(condition));
  const valueAttribute = definition.kind === 'counter' ? undefined : definition.value;
  const unique = definition.kind === 'unique';
  if (definition.kind !== 'counter' && valueAttribute === undefined) {
    throw new Error(`metric "${definition.name}" (${definition.kind}) needs a value attribute`);
  }
  return {
    definition,
    kind: definition.kind,
    index,
    dimensions: definition.dimensions,
    valueOf(attrs) {
      for (let i = 0; i < conditionTests.length; i++) {
        if (!(conditionTests[i] as Predicate)(attrs[conditionAttributes[i] as string])) return undefined;
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
      for (let i = 0; i < candidates.length; i++) {
        const metric = candidates[i] as CompiledMetric;
        const value = metric.valueOf(attrs);
        if (value === undefined) continue;
        if (metric.kind === 'gauge') declaredGaugeMatched = true;
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

