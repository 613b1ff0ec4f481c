import { compileMetrics, RollupAccumulator, type CompiledMetrics } from '../../domain/metrics/evaluate.ts';
import { metricEventTypes, type MetricDefinition } from '../../domain/metrics/definition.ts';
import { fetchRanges, type PlanPiece } from '../../domain/query-plan.ts';
import type { RollupRow } from '../../domain/rollup-types.ts';
import type { RollupPair } from '../../ports/storage.ts';
import type { PartialsDeps } from './query-deps.ts';
import { ValidationError } from '../../domain/errors.ts';

/**
 * The fetch stage: rollup rows for the stored pieces of a plan, and rows computed from raw
 * events (through the same evaluation code the aggregator uses) for the raw pieces. Every
 * returned row's `bucketStart` lies inside the piece it answers for, so callers can place it.
 */

export interface PartialsRequest {
  orgId: string;
  /** Metrics to return; `null` = every metric present (gauges found in the data included). */
  metrics: readonly MetricDefinition[] | null;
  project?: string | undefined;
  tag?: string | undefined;
  /** '' = global rows; a name = that dimension's rows; undefined = every dimension's rows (not global ones). */
  dimName: string | undefined;
  /** With `dimName` undefined: only these (metric, dimension) pairs' rows (`metrics` must hold their metrics, for raw events). */
  pairs?: readonly RollupPair[] | undefined;
  pieces: readonly PlanPiece[];
}

const compiledByCatalog = new WeakMap<readonly MetricDefinition[], CompiledMetrics>();

/** One compiled set per catalog, so dynamic gauges get the same names as in the aggregator. */
function compiledFor(ctx: PartialsDeps): CompiledMetrics {
  let compiled = compiledByCatalog.get(ctx.metrics);
  if (!compiled) {
    compiled = compileMetrics(ctx.metrics);
    compiledByCatalog.set(ctx.metrics, compiled);
  }
  return compiled;
}

function eventTypesOf(metrics: readonly MetricDefinition[] | null): string[] | undefined {
  if (metrics === null) return undefined;
  return [...new Set(metrics.flatMap((m) => metricEventTypes(m)))];
}

/**
 * Rows for raw pieces: events scanned once per contiguous range and folded as they are read
 * (never held: the current hour can have hundreds of thousands), each counted in the piece
 * holding it.
 */
async function rawRows(ctx: PartialsDeps, request: PartialsRequest, from: number, to: number, pieces: readonly PlanPiece[]): Promise<RollupRow[]> {
  const starts = pieces.filter((p) => p.kind === 'raw' && p.from >= from && p.to <= to).map((p) => p.from).sort((a, b) => a - b);
  const pieceStartOf = (ts: number): number => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= ts) low = middle;
      else high = middle - 1;
    }
    return starts[low]!;
  };
  const rows: RollupRow[] = [];
  // Global rows need no dimension's partials; a named dimension needs only its own.
  const selection = { dimension: request.dimName === '' ? null : request.dimName };
  const accumulator = new RollupAccumulator(compiledFor(ctx), pieceStartOf, 'hour', (row) => rows.push(row), selection);
  await ctx.eventReader.forEachEvent(
    {
      orgId: request.orgId,
      from,
      to,
      types: eventTypesOf(request.metrics),
      project: request.project,
      tag: request.tag,
    },
    (event) => accumulator.add(event),
  );
  accumulator.finish();
  return rows;
}

/**
 * Dimension rollup rows cover every project and tag (ADR 0006), so a dimension question
 * filtered by project or tag cannot be answered from them: its pieces are all read from raw
 * events, which is exact (slower over long ranges, and the only such case).
 */
export function needsRawEvents(request: Pick<PartialsRequest, 'project' | 'tag' | 'dimName'>): boolean {
  return request.dimName !== '' && (request.project !== undefined || request.tag !== undefined);
}

/**
 * Raw events older than raw retention are gone, so a scoped dimension question reaching back
 * there would silently miss them: it is refused, naming the filter, instead.
 */
function assertRawEventsKept(ctx: PartialsDeps, request: PartialsRequest): void {
  const kept = ctx.clock.now() - ctx.config.retention.rawMs;
  const start = Math.min(...request.pieces.map((piece) => piece.from));
  if (start >= kept) return;
  const days = Math.round(ctx.config.retention.rawMs / 86_400_000);
  throw ValidationError.field(
    request.project !== undefined ? 'project' : 'tag',
    `together with a dimension this filter is answered from raw events, which are kept ${days} days: start the range at ${new Date(kept).toISOString()} or later, or drop the filter`,
  );
}

export async function readPartials(ctx: PartialsDeps, request: PartialsRequest): Promise<RollupRow[]> {
  const metricNames = request.metrics === null ? undefined : request.metrics.map((m) => m.name);
  let pieces = request.pieces;
  if (needsRawEvents(request)) {
    assertRawEventsKept(ctx, request);
    pieces = request.pieces.map((piece): PlanPiece => (piece.kind === 'raw' ? piece : { kind: 'raw', from: piece.from, to: piece.to }));
  }
  const ranges = fetchRanges(pieces);
  const batches = await Promise.all(
    ranges.map((range) =>
      range.kind === 'raw'
        ? rawRows(ctx, request, range.from, range.to, pieces)
        : ctx.rollupReader.readRollups({
            orgId: request.orgId,
            granularity: range.granularity!,
            from: range.from,
            to: range.to,
            ...(request.pairs === undefined ? { metrics: metricNames, dimName: request.dimName } : { pairs: request.pairs }),
            project: request.project,
            tag: request.tag,
            // Every caller merges rows per (metric, dimension value, bucket or range) and ignores their scope.
            mergeScopes: request.project === undefined && request.tag === undefined,
          }),
    ),
  );
  const wanted = metricNames === undefined ? null : new Set(metricNames);
  const wantedPairs = request.pairs === undefined ? null : new Set(request.pairs.map((pair) => `${pair.metric}\u0000${pair.dimName}`));
  const rows: RollupRow[] = [];
  batches.forEach((batch, i) => {
    // Raw evaluation yields every metric and dimension of the scanned events; a read of pairs
    // returns only its pairs, so only raw rows are matched against them (a key per row).
    const pairsToMatch = ranges[i]!.kind === 'raw' ? wantedPairs : null;
    for (const row of batch) {
      if (request.dimName === undefined ? row.dimName === '' : row.dimName !== request.dimName) continue;
      if (wanted !== null && !wanted.has(row.metric)) continue;
      if (pairsToMatch !== null && !pairsToMatch.has(`${row.metric}\u0000${row.dimName}`)) continue;
      rows.push(row);
    }
  });
  return rows;
}
