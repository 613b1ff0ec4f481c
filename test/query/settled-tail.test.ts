import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesResponse, summaryResponse } from '../../src/http/query.schemas.ts';
import type { EventScan } from '../../src/ports/storage.ts';
import { uniqueId } from '../factories/index.ts';
import { generateDataset } from './dataset.ts';
import { checkSeries, checkSummary, METRIC_LIST } from './checks.ts';
import { dayLabel, oracleEvents, type OracleEvent, type SentEvent } from './oracle.ts';
import { aggregate, createOrg, createQueryTestContext, ENGINES, ingest, ok, query, type QueryTestContext, type TestOrg } from './support.ts';

/**
 * A range whose end lies after the last event (a range ending "now") is read from the whole
 * bucket holding its end (query-plan `settledEnd`) instead of hour rows and a raw scan of its
 * last minutes — and stays exact and as fresh as the raw scan was: an event not aggregated yet
 * before the end still counts, an aggregated event after the end does not.
 */

const ZONE = 'Asia/Kolkata';
const MINUTE = 60_000;
const DAY = 86_400_000;

describe.each(ENGINES)('ranges ending in a settled tail (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  let sent: SentEvent[];
  let lastTs: number;
  /** Every raw scan the queries asked for. */
  const scans: EventScan[] = [];
  const base = () => `/api/v1/orgs/${org.id}`;
  const iso = (ts: number) => new Date(ts).toISOString();

  beforeAll(async () => {
    t = await createQueryTestContext(engine);
    org = await createOrg(t.app, { id: uniqueId('tail'), timezone: ZONE });
    sent = generateDataset(13, org.id);
    await ingest(t.app, org, sent);
    await aggregate(t.ctx);
    lastTs = Math.max(...sent.map((e) => Date.parse(e.timestamp)));
    const reader = t.ctx.eventReader;
    const forEachEvent = reader.forEachEvent.bind(reader);
    reader.forEachEvent = (scan, visit) => {
      scans.push(scan);
      return forEachEvent(scan, visit);
    };
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  /** An end a few minutes after the last event, never on a half-hour (Kolkata's hours start at :30 UTC). */
  const endAfterLast = () => {
    let end = lastTs + 7 * MINUTE;
    if (end % (30 * MINUTE) === 0) end += MINUTE;
    return end;
  };
  /** A copy of the dataset's last LLM call (every attribute the oracle reads) at another time. */
  const llmCallAt = (ts: number, name: string): SentEvent => {
    const model = sent.filter((e) => e.type === 'llm_call' && e['usage_type'] === 'llm').at(-1)!;
    return { ...model, id: `${org.id}-${name}`, timestamp: iso(ts), cost_usd: 0.25 };
  };
  const summary = async (start: number, end: number) =>
    ok(t.app, `${base()}/summary?${query({ start: iso(start), end: iso(end), metric: METRIC_LIST })}`, org.keys.read, summaryResponse);

  it('reads the bucket holding the end whole (no raw scan past the last event) and equals the oracle', async () => {
    const end = endAfterLast();
    const start = end - 10 * DAY + 17 * MINUTE;
    scans.length = 0;
    checkSummary(await summary(start, end), oracleEvents(sent), start, end);
    const series = await ok(t.app, `${base()}/series?${query({ start: iso(start), end: iso(end), granularity: 'day', metric: METRIC_LIST })}`, org.keys.read, seriesResponse);
    checkSeries(series, oracleEvents(sent), start, end, (ts) => dayLabel(ts, ZONE), (timestamp) => dayLabel(Date.parse(timestamp), ZONE));
    expect(scans.length).toBeGreaterThan(0);
    // The leading edge is still scanned; nothing at the trailing edge is.
    for (const scan of scans) expect(scan.to, `raw scan [${iso(scan.from)}, ${iso(scan.to)})`).toBeLessThan(lastTs);
  });

  it('still counts an event of the end hour that is not aggregated yet', async () => {
    const end = endAfterLast();
    const start = end - 3 * DAY;
    const fresh = llmCallAt(end - MINUTE, 'fresh');
    await ingest(t.app, org, [fresh]);
    const events: OracleEvent[] = oracleEvents([...sent, fresh]);
    checkSummary(await summary(start, end), events, start, end);
    await aggregate(t.ctx);
    sent.push(fresh);
    checkSummary(await summary(start + MINUTE, end), events, start + MINUTE, end);
  });

  it('does not count an aggregated event after the end, in the same hour and day', async () => {
    const end = endAfterLast();
    const start = end - 2 * DAY - 11 * MINUTE;
    const later = llmCallAt(end + 2 * MINUTE, 'later');
    await ingest(t.app, org, [later]);
    await aggregate(t.ctx);
    checkSummary(await summary(start, end), oracleEvents(sent), start, end);
    checkSummary(await summary(start, end + 3 * MINUTE), oracleEvents([...sent, later]), start, end + 3 * MINUTE);
  });
});
