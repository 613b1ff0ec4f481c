import { NotFoundError } from '../domain/errors.ts';
import { tablesOf } from './generic-tables.ts';
import type { SourceConnection, SourceStatus } from './ports.ts';
import { rowToEvent } from './row-events.ts';
import type { PullDeps } from './pull-deps.ts';
import { runDueSnapshots } from './snapshots.ts';
import type { SourceConfig } from './source-config.ts';
import { countSql, keysetParams, keysetSql, num, text, type Cursor, type TablePull } from './table-pull.ts';

/**
 * Pulls SQL sources into meterboard (issue 11): per (source, table) a keyset walk from the
 * stored cursor, minus the re-scan window, through the ingest use case (validation, enrichment,
 * idempotency, supersede, dirty marks). A failing source is recorded and never stops the others.
 */

export type { PullDeps };

export const PAGE_SIZE = 2_000;
/** Events per ingest call, under the API's request limit. */
const INGEST_CHUNK = 5_000;


export interface PullProgress {
  source: string;
  table: string;
  read: number;
  /** Rows this pull will read at most; known on a first pull only. */
  total: number | null;
}

export interface PullOptions {
  /** Only this source (pulled even when not due). */
  name?: string | undefined;
  /** Re-read from this instant instead of the cursor (the cursor never moves back). */
  since?: number | undefined;
  /** Pull every source now, due or not. */
  force?: boolean | undefined;
  onProgress?: ((progress: PullProgress) => void) | undefined;
}

export interface SourcePullResult {
  source: string;
  ok: boolean;
  error: string | null;
  rowsRead: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  skipped: number;
  snapshots: number;
  durationMs: number;
}

interface Tally {
  rowsRead: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  skipped: number;
  snapshots: number;
  lastRejection: string | null;
  newestChangeUs: number | null;
}

export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  return (code && !message.includes(code) ? `${code}: ${message}` : message) || 'unknown error';
}

/** The meterboard organization a source row belongs to; null = not mapped (skipped). */
export function meterboardOrgOf(source: SourceConfig, sourceOrg: string | null): string | null {
  if (source.org !== undefined) return source.org;
  if (sourceOrg === null) return null;
  return source.orgs?.[sourceOrg] ?? null;
}

export function isDue(source: SourceConfig, status: SourceStatus | undefined, now: number): boolean {
  return status?.lastPullAt == null || now - status.lastPullAt >= source.every;
}

async function ingestByOrg(deps: PullDeps, byOrg: Map<string, Array<Record<string, unknown>>>, tally: Tally): Promise<void> {
  for (const [orgId, events] of byOrg) {
    for (let i = 0; i < events.length; i += INGEST_CHUNK) {
      const chunk = events.slice(i, i + INGEST_CHUNK);
      const result = await deps.ingest(orgId, chunk);
      tally.accepted += result.accepted;
      tally.duplicates += result.duplicates;
      tally.rejected += result.rejected.length;
      const first = result.rejected[0];
      if (first !== undefined) {
        const issue = first.errors[0];
        tally.lastRejection = `${String(chunk[first.index]?.['id'])}: ${issue?.field ?? ''} ${issue?.message ?? ''}`.trim();
      }
    }
  }
}

async function pullTable(
  deps: PullDeps,
  source: SourceConfig,
  connection: SourceConnection,
  table: TablePull,
  options: PullOptions,
  tally: Tally,
): Promise<void> {
  const now = deps.clock.now();
  const horizonUs = (now - deps.rawRetentionMs) * 1000;
  const stored = await deps.state.getCursor(source.name, table.key);
  let from: Cursor;
  if (options.since !== undefined) from = { changeUs: options.since * 1000, rowKey: '' };
  else if (stored === null) from = { changeUs: horizonUs, rowKey: '' };
  else from = { changeUs: Math.max(horizonUs, stored.changeUs - source.rescan * 1000), rowKey: '' };

  let total: number | null = null;
  if (stored === null && options.onProgress !== undefined) {
    const rows = await connection.query(countSql(table.baseSql), [keysetParams(from, 0)[0]]);
    total = Number(rows[0]?.['n'] ?? 0);
  }
  let read = 0;
  options.onProgress?.({ source: source.name, table: table.key, read, total });
  const horizonMs = now - deps.rawRetentionMs;
  for (;;) {
    const rows = await connection.query(keysetSql(table.baseSql), keysetParams(from, PAGE_SIZE));
    const byOrg = new Map<string, Array<Record<string, unknown>>>();
    let last: Cursor | null = null;
    for (const row of rows) {
      const rowKey = text(row, 'row_key');
      const changeUs = num(row, 'change_us');
      if (rowKey !== null && changeUs !== null) {
        last = { changeUs, rowKey };
        tally.newestChangeUs = Math.max(tally.newestChangeUs ?? 0, changeUs);
      }
      const mapped = rowToEvent(source.name, table, row);
      if (mapped === null) {
        tally.skipped += 1;
        continue;
      }
      const orgId = meterboardOrgOf(source, mapped.sourceOrg);
      if (orgId === null || Date.parse(String(mapped.event['timestamp'])) < horizonMs) {
        tally.skipped += 1;
        continue;
      }
      let list = byOrg.get(orgId);
      if (list === undefined) byOrg.set(orgId, (list = []));
      list.push(mapped.event);
    }
    await ingestByOrg(deps, byOrg, tally);
    read += rows.length;
    tally.rowsRead += rows.length;
    // After ingest succeeded: a failed page is read again next time, never lost.
    if (last !== null) {
      await deps.state.advanceCursor(source.name, table.key, last, deps.clock.now());
      from = last;
    }
    options.onProgress?.({ source: source.name, table: table.key, read, total });
    if (rows.length < PAGE_SIZE || last === null) break;
  }
}

/** Pulls one source's tables and due snapshots; errors end up in the result and the status, never thrown. */
export async function pullSource(deps: PullDeps, source: SourceConfig, options: PullOptions = {}): Promise<SourcePullResult> {
  const started = deps.clock.now();
  const wallStart = performance.now();
  const tally: Tally = { rowsRead: 0, accepted: 0, duplicates: 0, rejected: 0, skipped: 0, snapshots: 0, lastRejection: null, newestChangeUs: null };
  let error: string | null = null;
  try {
    const connection = deps.connector.connection(source);
    for (const table of tablesOf(source)) await pullTable(deps, source, connection, table, options, tally);
    tally.snapshots = await runDueSnapshots(deps, source, connection);
  } catch (caught) {
    error = describeError(caught);
    deps.log.warn({ source: source.name, err: caught }, 'pulling a source failed; it is retried on its next turn');
  }
  const finishedAt = deps.clock.now();
  try {
    await deps.state.recordPull({
      source: source.name,
      at: started,
      ok: error === null,
      rowsRead: tally.rowsRead,
      accepted: tally.accepted,
      rejected: tally.rejected,
      skipped: tally.skipped,
      error,
      lastRejection: tally.lastRejection,
      newestChangeUs: tally.newestChangeUs,
    });
  } catch (recordError) {
    deps.log.error({ source: source.name, err: recordError }, 'recording a source pull failed');
    error ??= `recording the pull failed: ${describeError(recordError)}`;
  }
  deps.telemetry.sourcePulled({ source: source.name, ok: error === null, rowsRead: tally.rowsRead, finishedAt });
  return {
    source: source.name,
    ok: error === null,
    error,
    rowsRead: tally.rowsRead,
    accepted: tally.accepted,
    duplicates: tally.duplicates,
    rejected: tally.rejected,
    skipped: tally.skipped,
    snapshots: tally.snapshots,
    durationMs: Math.round(performance.now() - wallStart),
  };
}

/** Pulls the named source, or every due source (all with `force`), one after another. */
export async function pullSources(deps: PullDeps, options: PullOptions = {}): Promise<SourcePullResult[]> {
  let selected: readonly SourceConfig[] = deps.sources;
  if (options.name !== undefined) {
    selected = deps.sources.filter((source) => source.name === options.name);
    if (selected.length === 0) throw new NotFoundError(`no source named "${options.name}" in the config's sources`);
  } else if (!options.force && options.since === undefined) {
    const now = deps.clock.now();
    const statuses = new Map((await deps.state.listStatus()).map((status) => [status.source, status]));
    selected = deps.sources.filter((source) => isDue(source, statuses.get(source.name), now));
  }
  const results: SourcePullResult[] = [];
  for (const source of selected) results.push(await pullSource(deps, source, options));
  return results;
}
