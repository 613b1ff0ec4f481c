import type { Database, Statement } from 'better-sqlite3';
import { lazy } from './lazy-statement.ts';
import { QUARTER_MS, quartersOf } from '../event-quarters.ts';
import type { Attributes, NewEvent, StoredEvent } from '../../domain/event.ts';
import { dirtyHoursAfterInsert, refoldHoursAfterInsert, resolveSupersede, type SupersedeContender, type SupersedeOutcome } from '../../domain/supersede.ts';
import type { DirtyMark, DirtyQueue, EventAppender, EventReader, FoldedEvent, FoldRange, InsertEventsResult, RetentionStore } from '../../ports/storage.ts';

type EventRow = [string, string, string, number, string, string, string, number, string | null];
type FoldRow = [type: string, ts: number, project: string, tag: string, attrs: string, rowid: number];
type HeadRow = [id: string, ts: number, receivedAt: number];

const EVENT_COLUMNS = 'org_id, id, type, ts, project, tag, attrs, received_at, supersede_key';
/** Stored with every event: the dirty generation of its transaction, which new-event folds compare (ADR 0019). */
const INSERT_COLUMNS = `${EVENT_COLUMNS}, generation`;
/** What scanEvents and forEachEvent read: the visible events of a range, filtered. */
const SCAN_FILTER = `superseded = 0
    AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
    AND (@project IS NULL OR project = @project)
    AND (@tag IS NULL OR tag = @tag)`;
/** A fold's filter: the scan's, and only events stored after a watermark generation when one is given (ADR 0019). */
const FOLD_FILTER = `${SCAN_FILTER} AND (@after IS NULL OR generation > @after)`;
/**
 * forEachEvent reads its range in chunks of this many rows, each with `.all()`: one call per
 * chunk instead of one per row (iterate()), and a bounded batch in memory however many events
 * an hour holds (up to 360,000).
 */
const FOLD_CHUNK_ROWS = 4_096;
/**
 * The fold's columns only (fewer values to copy out of SQLite per row), in index order: the
 * (org_id, ts, generation) index ends with the rowid, so `ts, generation, rowid` needs no sort
 * (ADR 0010); a new-event fold skips the hour's older rows on the index's generation, without
 * reading them from the table (ADR 0020). Generations and rowids both grow with insertion, so
 * within a timestamp this is storage order, as before. The generation itself is not among the
 * columns: only a chunk's cut row needs it, read then by rowid.
 */
const FOLD_COLUMNS = 'SELECT type, ts, project, tag, attrs, rowid FROM events';
const FOLD_LIMIT = `LIMIT ${FOLD_CHUNK_ROWS}`;
/** Rows per INSERT statement: one statement per row would cost more than the rows themselves. */
const ROWS_PER_INSERT = 100;
const COLUMN_COUNT = 10;
const HOUR_MS = 3_600_000;

/** Fills the fold's one reused event from a row and visits it (the visitor copies what it keeps). */
function visitRow(event: { -readonly [K in keyof FoldedEvent]: FoldedEvent[K] }, row: FoldRow, visit: (event: FoldedEvent) => void): void {
  event.type = row[0];
  event.ts = row[1];
  event.project = row[2];
  event.tag = row[3];
  event.attrs = JSON.parse(row[4]) as Attributes;
  visit(event);
}

function toEvent(row: EventRow): StoredEvent {
  const [orgId, id, type, ts, project, tag, attrs, receivedAt, supersedeKey] = row;
  return { orgId, id, type, ts, project, tag, attrs: JSON.parse(attrs) as Attributes, receivedAt, supersedeKey };
}

export function sqliteEventStore(db: Database): EventAppender & EventReader & Pick<RetentionStore, 'deleteEventsBefore' | 'countEventsBefore'> & DirtyQueue {
  const sql = lazy(() => ({
    // The key's visible events: its stored head plus the rows this transaction just inserted.
    selectVisibleOfKey: db
      .prepare<[string, string], HeadRow>('SELECT id, ts, received_at FROM events WHERE org_id = ? AND supersede_key = ? AND superseded = 0')
      .raw(),
    supersede: db.prepare<[string, string]>('UPDATE events SET superseded = 1 WHERE org_id = ? AND id = ?'),
    nextGeneration: db
      .prepare<[], number>("UPDATE sequences SET value = value + 1 WHERE name = 'dirty_generation' RETURNING value")
      .pluck(),
    upsertDirty: db.prepare<[string, number, number, number]>(
      `INSERT INTO dirty_hours (org_id, hour_start, generation, refold) VALUES (?, ?, ?, ?)
       ON CONFLICT (org_id, hour_start) DO UPDATE SET generation = excluded.generation, refold = max(refold, excluded.refold)`,
    ),
    // Writers are serialized, so the sequence read inside a read transaction is the newest
    // generation that transaction's snapshot holds, and every event it sees has one at most that.
    generationNow: db.prepare<[], number>("SELECT value FROM sequences WHERE name = 'dirty_generation'").pluck(),

    scan: db
      .prepare<[Record<string, unknown>], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE org_id = @orgId AND ts >= @from AND ts < @to AND ${SCAN_FILTER} ORDER BY ts, id`,
      )
      .raw(),
    foldFrom: db
      .prepare<[Record<string, unknown>], FoldRow>(
        `${FOLD_COLUMNS} WHERE org_id = @orgId AND ts >= @from AND ts < @to AND ${FOLD_FILTER} ORDER BY ts, generation, rowid ${FOLD_LIMIT}`,
      )
      .raw(),
    // The rest of a run of equal timestamps that a chunk cut, each an index seek: first the
    // cut generation's later rows, then the later generations. A row value
    // `(ts, generation, rowid) > (?, ?, ?)` would seek on ts alone and re-read the run's head
    // for every chunk, quadratic in the run's length.
    foldSameGeneration: db
      .prepare<[Record<string, unknown>], FoldRow>(
        `${FOLD_COLUMNS} WHERE org_id = @orgId AND ts = @ts AND generation IS @generation AND rowid > @afterRowid AND ${FOLD_FILTER} ORDER BY rowid ${FOLD_LIMIT}`,
      )
      .raw(),
    // NULL generations (events stored before migration 060) sort first and are never > anything.
    foldLaterGenerations: db
      .prepare<[Record<string, unknown>], FoldRow>(
        `${FOLD_COLUMNS} WHERE org_id = @orgId AND ts = @ts AND generation > @generationFloor AND ${FOLD_FILTER} ORDER BY generation, rowid ${FOLD_LIMIT}`,
      )
      .raw(),
    generationOfRow: db.prepare<[number], number | null>('SELECT generation FROM events WHERE rowid = ?').pluck(),
    // An hour's new rows by seeks on (org_id, quarter, generation), one per quarter hour, then
    // sorted: the (org_id, ts, generation) order would walk every row the hour already counted
    // (ADR 0028). The index is named so that the planner cannot take the walk for its order.
    foldNewByQuarter: db
      .prepare<[Record<string, unknown>], FoldRow>(
        `${FOLD_COLUMNS} INDEXED BY events_org_quarter_generation
         WHERE org_id = @orgId AND ts / ${QUARTER_MS} IN (SELECT value FROM json_each(@quarters)) AND generation > @after
           AND ts >= @from AND ts < @to AND ${SCAN_FILTER}
         ORDER BY ts, generation, rowid`,
      )
      .raw(),
    foldAfter: db
      .prepare<[Record<string, unknown>], FoldRow>(
        `${FOLD_COLUMNS} WHERE org_id = @orgId AND ts > @afterTs AND ts < @to AND ${FOLD_FILTER} ORDER BY ts, generation, rowid ${FOLD_LIMIT}`,
      )
      .raw(),
    recent: db
      .prepare<[Record<string, unknown>], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE org_id = @orgId AND superseded = 0
           AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
         ORDER BY ts DESC, received_at DESC, id DESC LIMIT @limit`,
      )
      .raw(),
    // Two scalar subqueries, each one index seek: the first visible event from @from, the
    // first dirty hour ending after @from.
    quiet: db.prepare<[Record<string, unknown>], { event: number | null; mark: number | null }>(
      `SELECT (SELECT ts FROM events WHERE org_id = @orgId AND ts >= @from AND superseded = 0 ORDER BY ts LIMIT 1) AS event,
              (SELECT hour_start FROM dirty_hours WHERE org_id = @orgId AND hour_start > @from - ${HOUR_MS} ORDER BY hour_start LIMIT 1) AS mark`,
    ),
    countAll: db.prepare<[], number>('SELECT count(*) FROM events').pluck(),
    countOrg: db.prepare<[string], number>('SELECT count(*) FROM events WHERE org_id = ?').pluck(),
    // Two scalar subqueries so each uses the (org_id, ts) index's min/max shortcut.
    tsRange: db.prepare<[string, string], { min: number | null; max: number | null }>(
      'SELECT (SELECT min(ts) FROM events WHERE org_id = ?) AS min, (SELECT max(ts) FROM events WHERE org_id = ?) AS max',
    ),
    deleteBefore: db.prepare<[number]>('DELETE FROM events WHERE ts < ?'),
    countBefore: db.prepare<[number], number>('SELECT count(*) FROM events WHERE ts < ?').pluck(),
    dirtyOrgs: db.prepare<[], string>('SELECT DISTINCT org_id FROM dirty_hours ORDER BY org_id').pluck(),
    listDirty: db.prepare<[string, number], Omit<DirtyMark, 'refold'> & { refold: number }>(
      `SELECT org_id AS orgId, hour_start AS hourStart, generation, refold FROM dirty_hours
       WHERE org_id = ? ORDER BY hour_start LIMIT ?`,
    ),
    deleteMark: db.prepare<[string, number, number]>(
      'DELETE FROM dirty_hours WHERE org_id = ? AND hour_start = ? AND generation = ?',
    ),
  }));

  const insertStatements = new Map<number, Statement<unknown[], string>>();
  function insertStatement(rows: number): Statement<unknown[], string> {
    let statement = insertStatements.get(rows);
    if (statement === undefined) {
      const values = Array.from({ length: rows }, () => `(${'?, '.repeat(COLUMN_COUNT - 1)}?)`).join(', ');
      statement = db
        .prepare<unknown[], string>(`INSERT INTO events (${INSERT_COLUMNS}) VALUES ${values} ON CONFLICT (org_id, id) DO NOTHING RETURNING id`)
        .pluck();
      insertStatements.set(rows, statement);
    }
    return statement;
  }

  /** Inserts the rows not stored yet (rows are handled in order, so a repeated id keeps its first row); returns their ids. */
  function insertRows(orgId: string, events: readonly NewEvent[], now: number, generation: number): Set<string> {
    const fresh = new Set<string>();
    for (let start = 0; start < events.length; start += ROWS_PER_INSERT) {
      const end = Math.min(start + ROWS_PER_INSERT, events.length);
      const params: unknown[] = new Array<unknown>((end - start) * COLUMN_COUNT);
      let p = 0;
      for (let i = start; i < end; i++) {
        const e = events[i]!;
        params[p++] = orgId;
        params[p++] = e.id;
        params[p++] = e.type;
        params[p++] = e.ts;
        params[p++] = e.project;
        params[p++] = e.tag;
        params[p++] = JSON.stringify(e.attrs);
        params[p++] = now;
        params[p++] = e.supersedeKey;
        params[p++] = generation;
      }
      for (const id of insertStatement(end - start).all(...params)) fresh.add(id);
    }
    return fresh;
  }

  function markHours(orgId: string, hours: Iterable<number>, refold: (hour: number) => boolean, generation?: number): void {
    for (const hour of hours) {
      generation ??= sql().nextGeneration.get()!;
      sql().upsertDirty.run(orgId, hour, generation, refold(hour) ? 1 : 0);
    }
  }

  /**
   * Applies the domain's supersede rule to one key: reads its stored head (the visible row not
   * inserted now), lets the rule decide, flips the losers. Runs inside the write transaction,
   * which SQLite serializes, so no other writer sees the key in between.
   */
  function applySupersede(orgId: string, key: string, arrivals: readonly SupersedeContender[], insertedIds: ReadonlySet<string>): SupersedeOutcome<SupersedeContender> {
    const stored = sql().selectVisibleOfKey.all(orgId, key).find(([id]) => !insertedIds.has(id));
    const head = stored === undefined ? null : { id: stored[0], ts: stored[1], receivedAt: stored[2] };
    const outcome = resolveSupersede(head, arrivals);
    for (const loser of outcome.losers) sql().supersede.run(orgId, loser.id);
    if (outcome.dethroned !== null) sql().supersede.run(orgId, outcome.dethroned.id);
    return outcome;
  }

  const insertTx = db.transaction(
    (orgId: string, events: readonly NewEvent[], hourOf: (ts: number) => number, now: number): InsertEventsResult => {
      const inserted: boolean[] = new Array<boolean>(events.length);
      const insertedAt: number[] = [];
      const arrivalsByKey = new Map<string, SupersedeContender[]>();
      const generation = sql().nextGeneration.get()!;
      const fresh = insertRows(orgId, events, now, generation);
      const insertedIds = new Set(fresh);
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        // A later repeat of an id within the batch conflicts with its first occurrence.
        inserted[i] = fresh.delete(e.id);
        if (inserted[i]) {
          insertedAt.push(e.ts);
          if (e.supersedeKey !== null) {
            const arrival = { id: e.id, ts: e.ts, receivedAt: now };
            const group = arrivalsByKey.get(e.supersedeKey);
            if (group === undefined) arrivalsByKey.set(e.supersedeKey, [arrival]);
            else group.push(arrival);
          }
        }
      }
      const outcomes = [...arrivalsByKey].map(([key, arrivals]) => applySupersede(orgId, key, arrivals, insertedIds));
      const dirtyHours = dirtyHoursAfterInsert(insertedAt, outcomes, hourOf);
      const refold = new Set(refoldHoursAfterInsert(outcomes, hourOf));
      markHours(orgId, dirtyHours, (hour) => refold.has(hour), generation);
      return { inserted, dirtyHours };
    },
  );
  /**
   * One read transaction around every chunk, so the scan reads one snapshot even though each
   * chunk is its own statement (another connection may commit in between). Synchronous: nothing
   * else runs on the connection meanwhile; a throwing visit rolls the read back and rethrows.
   */
  /** Visits a range's rows in (ts, generation, rowid) order in bounded chunks; inside the caller's read transaction. */
  function foldRange(scan: Record<string, unknown>, orgId: string, visit: (event: FoldedEvent) => void): number {
    const event = { orgId, type: '', ts: 0, project: '', tag: '', attrs: {} as Attributes };
    let visited = 0;
    let rows = sql().foldFrom.all(scan);
    /** Which statement read `rows`; after a short chunk of a cut run, the next one of the run. */
    let step: 'range' | 'sameGeneration' | 'laterGenerations' = 'range';
    /** Where a cut run of equal timestamps resumes: the last row of the last full chunk. */
    let cut = { ts: 0, generation: null as number | null };
    for (;;) {
      for (let i = 0; i < rows.length; i++) visitRow(event, rows[i]!, visit);
      visited += rows.length;
      if (rows.length === FOLD_CHUNK_ROWS) {
        // A full chunk may have cut a run of equal timestamps: its rest comes first.
        const last = rows[rows.length - 1]!;
        cut = { ts: last[1], generation: sql().generationOfRow.get(last[5]) ?? null };
        rows = sql().foldSameGeneration.all({ ...scan, ts: cut.ts, generation: cut.generation, afterRowid: last[5] });
        step = 'sameGeneration';
      } else if (step === 'sameGeneration') {
        rows = sql().foldLaterGenerations.all({ ...scan, ts: cut.ts, generationFloor: cut.generation ?? Number.MIN_SAFE_INTEGER });
        step = 'laterGenerations';
      } else if (step === 'laterGenerations') {
        rows = sql().foldAfter.all({ ...scan, afterTs: cut.ts });
        step = 'range';
      } else {
        return visited;
      }
    }
  }
  /**
   * Visits the rows of a range stored after generation `scan.after` in (ts, generation, rowid)
   * order, found by quarter hour (ADR 0028). Streamed: SQLite sorts them in its own sorter, so
   * however many arrived, the process holds one row at a time.
   */
  function foldNewByQuarter(scan: Record<string, unknown>, orgId: string, visit: (event: FoldedEvent) => void): number {
    const event = { orgId, type: '', ts: 0, project: '', tag: '', attrs: {} as Attributes };
    let visited = 0;
    for (const row of sql().foldNewByQuarter.iterate(scan)) {
      visitRow(event, row, visit);
      visited += 1;
    }
    return visited;
  }
  const foldTx = db.transaction(foldRange);
  /**
   * A range with a watermark reads only the events stored after it, by quarter hour when it spans
   * few (ADR 0028); the others take the chunked fold. The watermark is read in the same snapshot.
   */
  const foldNewTx = db.transaction((orgId: string, ranges: readonly FoldRange[], visit: (event: FoldedEvent, range: number) => void) => {
    const watermark = sql().generationNow.get()!;
    let events = 0;
    ranges.forEach((range, index) => {
      const after = range.after === null ? null : generationOf(range.after);
      const scan = { orgId, from: range.from, to: range.to, types: null, project: null, tag: null, after };
      const quarters = after === null ? null : quartersOf(range.from, range.to);
      events +=
        quarters === null
          ? foldRange(scan, orgId, (folded) => visit(folded, index))
          : foldNewByQuarter({ ...scan, quarters: JSON.stringify(quarters) }, orgId, (folded) => visit(folded, index));
    });
    return { events, watermark: String(watermark) };
  });
  // Marks set by hand ask for a refold: nothing says which events they are about.
  const markTx = db.transaction((orgId: string, hours: readonly number[]) => markHours(orgId, new Set(hours), () => true));
  const clearTx = db.transaction((marks: readonly DirtyMark[]) => {
    for (const m of marks) sql().deleteMark.run(m.orgId, m.hourStart, m.generation);
  });

  const typesParam = (types: readonly string[] | undefined) =>
    types === undefined || types.length === 0 ? null : JSON.stringify(types);

  return {
    async insertEvents(orgId, events, hourOf, now) {
      return insertTx.immediate(orgId, events, hourOf, now);
    },
    async scanEvents(q) {
      // An explicit empty restriction selects nothing (recentEvents reads [] as "all types").
      if (q.types !== undefined && q.types.length === 0) return [];
      const params = { orgId: q.orgId, from: q.from, to: q.to, types: typesParam(q.types), project: q.project ?? null, tag: q.tag ?? null };
      return sql().scan.all(params).map(toEvent);
    },
    async forEachEvent(q, visit) {
      if (q.types !== undefined && q.types.length === 0) return 0;
      const params = { orgId: q.orgId, from: q.from, to: q.to, types: typesParam(q.types), project: q.project ?? null, tag: q.tag ?? null, after: null };
      return foldTx.deferred(params, q.orgId, visit);
    },
    async forEachNewEvent(orgId, ranges, visit) {
      return foldNewTx.deferred(orgId, ranges, visit);
    },
    async recentEvents(orgId, types, limit) {
      return sql().recent.all({ orgId, types: typesParam(types), limit }).map(toEvent);
    },
    async quietAfter(orgId, from) {
      const { event, mark } = sql().quiet.get({ orgId, from })!;
      return Math.max(from, Math.min(event ?? Infinity, mark ?? Infinity));
    },
    /** Every stored event, superseded ones included. */
    async countEvents(orgId) {
      return orgId === undefined ? sql().countAll.get()! : sql().countOrg.get(orgId)!;
    },
    async eventTimestampsRange(orgId) {
      const range = sql().tsRange.get(orgId, orgId);
      return range?.min == null || range.max == null ? null : { min: range.min, max: range.max };
    },
    async deleteEventsBefore(cutoff) {
      return sql().deleteBefore.run(cutoff).changes;
    },
    async countEventsBefore(cutoff) {
      return sql().countBefore.get(cutoff)!;
    },

    // better-sqlite3 runs every statement on this thread: a second organization would only
    // interleave with the first, never overlap it.
    orgsAtOnce: 1,

    async markDirty(orgId, hourStarts) {
      if (hourStarts.length > 0) markTx.immediate(orgId, hourStarts);
    },
    async dirtyOrgs() {
      return sql().dirtyOrgs.all();
    },
    async listDirty(orgId, limit) {
      return sql().listDirty.all(orgId, limit).map((mark) => ({ ...mark, refold: mark.refold === 1 }));
    },
    async clearDirty(marks) {
      if (marks.length > 0) clearTx.immediate(marks);
    },
  };
}

function generationOf(watermark: string): number {
  const generation = Number(watermark);
  if (!Number.isSafeInteger(generation)) throw new Error(`not a SQLite fold watermark: ${JSON.stringify(watermark)}`);
  return generation;
}
