import type { Attributes } from '../event.ts';
import type { Granularity, RollupRow } from '../rollup-types.ts';
import { ALL_SCOPES_PROJECT, ALL_SCOPES_TAG, MISSING_DIMENSION_VALUE, rollupRow } from '../rollup-types.ts';
import { PartialTable } from '../rollup-math.ts';
import type { CompiledMetric, CompiledMetrics, EvaluableEvent } from './compile.ts';

export {
  compileMetrics,
  dimensionValue,
  numericValue,
  type CompileOptions,
  type CompiledMetric,
  type CompiledMetrics,
  type EvaluableEvent,
  type MetricMatch,
} from './compile.ts';

/**
 * Rollup rows from events. Events are folded into partials one at a time as they arrive
 * (`RollupAccumulator`), so a caller streaming them from a store never holds more than one
 * bucket's partials — however many events the bucket has.
 */

/**
 * Which rows to build: every row (the aggregator), the global rows only (`dimension: null`),
 * or the global rows and one dimension's.
 */
export interface RowSelection {
  dimension?: string | null;
}

/** One (org, project, tag) of the open bucket: its global partial slot per metric. */
interface GroupState {
  orgId: string;
  project: string;
  tag: string;
  /** By metric index; -1 = no partial yet. */
  slots: number[];
  /** Metrics in the order they were first fed, which is the order their rows are emitted in. */
  touched: CompiledMetric[];
}

/**
 * The distinct values of one dimension in one org's open bucket, numbered from 0 as first
 * seen. A value is looked up once per event, however many metrics read that dimension (the
 * api_request metrics share four dimensions, the llm_call ones overlap on most of theirs).
 */
interface DimensionValues {
  byText: Map<string, number>;
  /** Numbers and booleans, whose value is their text (`200` and `"200"` are one value). */
  byPrimitive: Map<number | boolean, number>;
  texts: string[];
}

/** One metric's partials for one of its dimensions. */
interface MetricDimension {
  /** By value id; -1 = no partial yet. */
  slots: number[];
  /** Value ids in the order they were first fed, which is the order their rows are emitted in. */
  order: number[];
}

/** Dimension partials of one org in the open bucket, across its projects and tags. */
interface DimensionState {
  /** By dimension id. */
  values: (DimensionValues | undefined)[];
  /** By metric index, per declared dimension. */
  byMetric: (MetricDimension[] | undefined)[];
  touched: CompiledMetric[];
}

function newValue(values: DimensionValues, text: string): number {
  const id = values.texts.length;
  values.texts.push(text);
  values.byText.set(text, id);
  return id;
}

const HOUR_MS = 3_600_000;
/** Per granularity: the usual span of a bucket, then the shortest one (see `lastInstantOf`). */
const PROBED_SPANS_MS: Readonly<Record<Granularity, readonly number[]>> = {
  hour: [HOUR_MS, HOUR_MS / 2],
  day: [24 * HOUR_MS, 23 * HOUR_MS],
  week: [7 * 24 * HOUR_MS, (7 * 24 - 1) * HOUR_MS],
  month: [28 * 24 * HOUR_MS, (28 * 24 - 1) * HOUR_MS],
};

/** Above this many groups in a bucket, groups are found through a keyed map instead of a scan. */
const LISTED_GROUPS = 16;

/**
 * Folds events into rollup rows, handed to `emit` bucket by bucket: per (org, bucket, metric,
 * project, tag) a global row (dimName ''), and per (org, bucket, metric) one row per declared
 * dimension value with project and tag ALL_SCOPES_PROJECT / ALL_SCOPES_TAG — dimension rows are
 * not split by project × tag (ADR 0006: that split multiplied the rows; a question filtering
 * on a project or tag and a dimension at once is answered from raw events). Sketches only on
 * distribution metrics, last readings only on gauges. Metrics that no event fed get no row.
 *
 * Events must come in bucket order (a store's scan ordered by timestamp does): a bucket's rows
 * are emitted when the first event of a later bucket arrives, or at `finish()`.
 */
export class RollupAccumulator {
  private readonly table = new PartialTable();
  private readonly dimensionTable = new PartialTable();
  private bucket: number | null = null;
  /** See `lastInstantOf`; -Infinity when unknown. */
  private bucketLast = -Infinity;
  private readonly groups: GroupState[] = [];
  private keyed: Map<string, GroupState> | null = null;
  private last: GroupState | null = null;
  private readonly dimensionsByOrg = new Map<string, DimensionState>();
  /** By metric index, per declared dimension: whether this run builds its rows. */
  private readonly wanted: (boolean[] | undefined)[] = [];
  /** Dimension names numbered once for the accumulator's life, and each metric's dimensions as those numbers. */
  private readonly dimensionIds = new Map<string, number>();
  private readonly metricDimensionIds: (number[] | undefined)[] = [];
  /** Per dimension id: the event its value was last looked up for, and that value's id. */
  private readonly resolvedFor: number[] = [];
  private readonly resolvedValue: number[] = [];
  private eventNumber = 0;
  private group: GroupState | null = null;
  private dimensions: DimensionState | null = null;
  private ts = 0;
  private attrs: Attributes = {};
  private readonly visit = (metric: CompiledMetric, value: number): void => this.fold(metric, value);

  constructor(
    private readonly compiled: CompiledMetrics,
    private readonly bucketOf: (ts: number) => number,
    private readonly granularity: Granularity,
    private readonly emit: (row: RollupRow) => void,
    private readonly selection: RowSelection = {},
  ) {}

  /** `bucketStart` may be passed when the caller already knows it (`bucketOf(event.ts)`). */
  add(event: EvaluableEvent, bucketStart?: number): void {
    const ts = event.ts;
    if (bucketStart === undefined) {
      const open = this.bucket;
      bucketStart = open !== null && ts >= open && ts <= this.bucketLast ? open : this.bucketOf(ts);
    }
    if (bucketStart !== this.bucket) {
      if (this.bucket !== null && bucketStart < this.bucket) {
        throw new Error(`events must come in bucket order (${bucketStart} after ${this.bucket})`);
      }
      this.flush();
      this.bucket = bucketStart;
      this.bucketLast = this.lastInstantOf(bucketStart);
    }
    this.group = this.groupOf(event.orgId ?? '', event.project, event.tag);
    this.dimensions = null;
    this.eventNumber++;
    this.ts = ts;
    this.attrs = event.attrs;
    this.compiled.forEachMatch(event, this.visit);
  }

  /**
   * The last millisecond known to fall in the bucket starting at `start`, so that the open
   * bucket's events skip `bucketOf` (a time-zone computation per event otherwise). `bucketOf`
   * never decreases, so when a probe lands in the same bucket every instant in between does:
   * one probe at the bucket's usual span, a second at the shortest a time zone allows (a DST
   * change moves the clock by 30 minutes at least). A bucket shorter still (a query's partial
   * piece) fails both and its events keep calling `bucketOf`.
   */
  private lastInstantOf(start: number): number {
    for (const span of PROBED_SPANS_MS[this.granularity]) {
      const probe = start + span - 1;
      if (this.bucketOf(probe) === start) return probe;
    }
    return -Infinity;
  }

  /** Emits the rows of the open bucket; the accumulator can then take events of any later bucket. */
  finish(): void {
    this.flush();
  }

  private groupOf(orgId: string, project: string, tag: string): GroupState {
    const last = this.last;
    if (last !== null && last.project === project && last.tag === tag && last.orgId === orgId) return last;
    let found: GroupState | undefined;
    const key = this.keyed === null ? '' : `${orgId}\u0000${project}\u0000${tag}`;
    if (this.keyed === null) {
      for (const group of this.groups) {
        if (group.project === project && group.tag === tag && group.orgId === orgId) {
          found = group;
          break;
        }
      }
    } else {
      found = this.keyed.get(key);
    }
    if (found === undefined) {
      found = { orgId, project, tag, slots: [], touched: [] };
      this.groups.push(found);
      if (this.keyed !== null) this.keyed.set(key, found);
      else if (this.groups.length > LISTED_GROUPS) {
        this.keyed = new Map(this.groups.map((g) => [`${g.orgId}\u0000${g.project}\u0000${g.tag}`, g]));
      }
    }
    this.last = found;
    return found;
  }

  private wantedOf(metric: CompiledMetric): boolean[] {
    let wanted = this.wanted[metric.index];
    if (wanted === undefined) {
      const only = this.selection.dimension;
      wanted = metric.dimensions.map((name) => only !== null && (only === undefined || only === name));
      this.wanted[metric.index] = wanted;
    }
    return wanted;
  }

  private dimensionIdsOf(metric: CompiledMetric): number[] {
    let ids = this.metricDimensionIds[metric.index];
    if (ids === undefined) {
      ids = metric.dimensions.map((name) => {
        let id = this.dimensionIds.get(name);
        if (id === undefined) {
          id = this.dimensionIds.size;
          this.dimensionIds.set(name, id);
          this.resolvedFor.push(-1);
          this.resolvedValue.push(-1);
        }
        return id;
      });
      this.metricDimensionIds[metric.index] = ids;
    }
    return ids;
  }

  /** The id of the current event's value of dimension `id` (`name`) in the open bucket's org. */
  private valueIdOf(dimensions: DimensionState, id: number, name: string): number {
    if (this.resolvedFor[id] === this.eventNumber) return this.resolvedValue[id] as number;
    let values = dimensions.values[id];
    if (values === undefined) {
      values = { byText: new Map(), byPrimitive: new Map(), texts: [] };
      while (dimensions.values.length < id) dimensions.values.push(undefined);
      dimensions.values[id] = values;
    }
    const raw = this.attrs[name];
    let valueId: number | undefined;
    if (typeof raw === 'string') {
      valueId = values.byText.get(raw) ?? newValue(values, raw);
    } else if (raw === null || raw === undefined) {
      valueId = values.byText.get(MISSING_DIMENSION_VALUE) ?? newValue(values, MISSING_DIMENSION_VALUE);
    } else {
      valueId = values.byPrimitive.get(raw);
      if (valueId === undefined) {
        const text = String(raw);
        valueId = values.byText.get(text) ?? newValue(values, text);
        values.byPrimitive.set(raw, valueId);
      }
    }
    this.resolvedFor[id] = this.eventNumber;
    this.resolvedValue[id] = valueId;
    return valueId;
  }

  private fold(metric: CompiledMetric, value: number): void {
    const kind = metric.kind;
    const group = this.group as GroupState;
    let slot = group.slots[metric.index];
    if (slot === undefined || slot < 0) {
      slot = this.table.open(kind);
      while (group.slots.length < metric.index) group.slots.push(-1);
      group.slots[metric.index] = slot;
      group.touched.push(metric);
    }
    this.table.add(slot, value, this.ts);
    const names = metric.dimensions;
    if (names.length === 0) return;
    const wanted = this.wantedOf(metric);
    const ids = this.dimensionIdsOf(metric);
    let dimensions = this.dimensions;
    if (dimensions === null) {
      dimensions = this.dimensionsByOrg.get(group.orgId) ?? null;
      if (dimensions === null) {
        dimensions = { values: [], byMetric: [], touched: [] };
        this.dimensionsByOrg.set(group.orgId, dimensions);
      }
      this.dimensions = dimensions;
    }
    let byDimension = dimensions.byMetric[metric.index];
    if (byDimension === undefined) {
      byDimension = names.map(() => ({ slots: [], order: [] }));
      dimensions.byMetric[metric.index] = byDimension;
      dimensions.touched.push(metric);
    }
    for (let i = 0; i < names.length; i++) {
      if (!wanted[i]) continue;
      const valueId = this.valueIdOf(dimensions, ids[i] as number, names[i] as string);
      const partials = byDimension[i] as MetricDimension;
      let dimensionSlot = partials.slots[valueId];
      if (dimensionSlot === undefined || dimensionSlot < 0) {
        dimensionSlot = this.dimensionTable.open(kind);
        while (partials.slots.length < valueId) partials.slots.push(-1);
        partials.slots[valueId] = dimensionSlot;
        partials.order.push(valueId);
      }
      this.dimensionTable.add(dimensionSlot, value, this.ts);
    }
  }

  private emitRow(partials: PartialTable, orgId: string, project: string, tag: string, metric: string, dimName: string, dimValue: string, slot: number): void {
    this.emit(rollupRow(orgId, this.granularity, this.bucket as number, metric, project, tag, dimName, dimValue, partials.partial(slot)));
  }

  /** Rows of the open bucket: per org (in order), its groups' global rows, then its dimension rows. */
  private flush(): void {
    if (this.bucket === null) return;
    const orgs = [...new Set(this.groups.map((group) => group.orgId))].sort();
    for (const orgId of orgs) {
      for (const group of this.groups) {
        if (group.orgId !== orgId) continue;
        for (const metric of group.touched) {
          this.emitRow(this.table, orgId, group.project, group.tag, metric.definition.name, '', '', group.slots[metric.index] as number);
        }
      }
      const dimensions = this.dimensionsByOrg.get(orgId);
      if (dimensions === undefined) continue;
      for (const metric of dimensions.touched) {
        const byDimension = dimensions.byMetric[metric.index] as MetricDimension[];
        const ids = this.dimensionIdsOf(metric);
        byDimension.forEach((partials, i) => {
          // A dimension this run does not build (RowSelection) was never fed.
          if (partials.order.length === 0) return;
          const dimName = metric.dimensions[i] as string;
          const texts = (dimensions.values[ids[i] as number] as DimensionValues).texts;
          for (const valueId of partials.order) {
            this.emitRow(this.dimensionTable, orgId, ALL_SCOPES_PROJECT, ALL_SCOPES_TAG, metric.definition.name, dimName, texts[valueId] as string, partials.slots[valueId] as number);
          }
        });
      }
    }
    this.groups.length = 0;
    this.keyed = null;
    this.last = null;
    this.dimensionsByOrg.clear();
    this.dimensions = null;
    this.group = null;
    this.table.reset();
    this.dimensionTable.reset();
    this.bucket = null;
    this.bucketLast = -Infinity;
  }
}

/**
 * Rollup rows of `events` in any order (see `RollupAccumulator`), handed to `emit` one by one
 * so a caller can stream them into a store. Events out of bucket order are first put in
 * bucket order (stable), so every row sums its events in the order they were given.
 */
export function forEachAggregatedRow(
  input: Iterable<EvaluableEvent>,
  compiled: CompiledMetrics,
  bucketOf: (ts: number) => number,
  granularity: Granularity,
  emit: (row: RollupRow) => void,
  rows: RowSelection = {},
): void {
  const events = Array.isArray(input) ? (input as readonly EvaluableEvent[]) : Array.from(input);
  const buckets = new Float64Array(events.length);
  let ordered = true;
  for (let i = 0; i < events.length; i++) {
    buckets[i] = bucketOf((events[i] as EvaluableEvent).ts);
    if (i > 0 && (buckets[i] as number) < (buckets[i - 1] as number)) ordered = false;
  }
  const accumulator = new RollupAccumulator(compiled, bucketOf, granularity, emit, rows);
  if (ordered) {
    for (let i = 0; i < events.length; i++) accumulator.add(events[i] as EvaluableEvent, buckets[i] as number);
  } else {
    const order = Array.from(events.keys()).sort((a, b) => (buckets[a] as number) - (buckets[b] as number) || a - b);
    for (const i of order) accumulator.add(events[i] as EvaluableEvent, buckets[i] as number);
  }
  accumulator.finish();
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
