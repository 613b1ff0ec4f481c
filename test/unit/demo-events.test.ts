import { describe, expect, it } from 'vitest';
import { generateDemoBatches, generateDemoEvents, type DemoEventOptions, type RawDemoEvent } from '../../src/app/demo-events.ts';
import { BUILT_IN_EVENT_TYPES, parseEvent } from '../../src/domain/event-schemas.ts';

const END = Date.UTC(2026, 2, 18, 15, 27, 11, 345);
const DAY = 86_400_000;
const base: DemoEventOptions = { orgId: 'acme', days: 7, eventsPerDay: 4_000, endMs: END, timezone: 'UTC', seed: 42 };

const all = (options: DemoEventOptions): RawDemoEvent[] => [...generateDemoEvents(options)];

/** Local hour of an instant; zones here have whole- or half-hour offsets, so one lookup per UTC half hour suffices. */
function localHourOf(timeZone: string): (ts: number) => number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' });
  const cache = new Map<number, number>();
  return (ts) => {
    const slot = Math.floor(ts / 1_800_000);
    let hour = cache.get(slot);
    if (hour === undefined) cache.set(slot, (hour = Number(format.format(slot * 1_800_000))));
    return hour;
  };
}

describe('generateDemoEvents', () => {
  const events = all(base);

  it('produces exactly days × eventsPerDay events with unique ids', () => {
    expect(events).toHaveLength(7 * 4_000);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('covers every built-in event type', () => {
    const types = new Set(events.map((e) => e.type));
    for (const type of BUILT_IN_EVENT_TYPES) expect(types, type).toContain(type);
  });

  it('is deterministic for a seed and differs across seeds and organizations', () => {
    expect(all(base)).toEqual(events);
    const otherSeed = all({ ...base, seed: 43 });
    const otherOrg = all({ ...base, orgId: 'globex' });
    expect(otherSeed.map((e) => e.timestamp)).not.toEqual(events.map((e) => e.timestamp));
    expect(otherOrg.map((e) => e.timestamp)).not.toEqual(events.map((e) => e.timestamp));
  });

  it('keeps every timestamp inside [end - days, end) as canonical ISO strings', () => {
    const outside = events.filter((e) => {
      const ts = Date.parse(e.timestamp);
      return !(ts >= END - 7 * DAY && ts < END && new Date(ts).toISOString() === e.timestamp);
    });
    expect(outside).toEqual([]);
  });

  it('passes ingest validation for every event', () => {
    const limits = { now: END, maxFutureSkewMs: 300_000, maxAgeMs: 90 * DAY };
    const failures = events.map((e) => parseEvent(e, limits)).filter((r) => !r.ok);
    expect(failures).toEqual([]);
  });

  it('includes a file_execution ERROR superseded by a later COMPLETED for the same file', () => {
    const byFile = new Map<string, RawDemoEvent[]>();
    for (const e of events.filter((x) => x.type === 'file_execution')) {
      const key = `${e['execution_id']}|${e['file_name']}`;
      byFile.set(key, [...(byFile.get(key) ?? []), e]);
    }
    const superseded = [...byFile.values()].filter((list) => {
      const sorted = [...list].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
      return sorted.length === 2 && sorted[0]!['status'] === 'ERROR' && sorted[1]!['status'] === 'COMPLETED' && sorted[0]!.timestamp < sorted[1]!.timestamp;
    });
    expect(superseded.length).toBeGreaterThan(0);
  });

  it('carries the details the dashboards need: real models, computed and provided costs, errors, failed pages', () => {
    const llm = events.filter((e) => e.type === 'llm_call');
    const models = new Set(llm.map((e) => e['model']));
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'gemini-2.0-flash', 'text-embedding-3-small']) expect(models).toContain(model);
    expect(llm.some((e) => e['usage_type'] === 'embedding')).toBe(true);
    for (const reason of ['extraction', 'challenge', 'summarize']) expect(llm.some((e) => e['reason'] === reason)).toBe(true);
    expect(llm.some((e) => e['cost_usd'] === undefined)).toBe(true);
    expect(llm.some((e) => typeof e['cost_usd'] === 'number')).toBe(true);
    expect(llm.some((e) => e['status'] === 'error')).toBe(true);
    expect(events.some((e) => e.type === 'page_usage' && Number(e['failed_pages']) > 0)).toBe(true);
    const api = events.filter((e) => e.type === 'api_request');
    expect(api.some((e) => Number(e['status_code']) >= 500)).toBe(true);
    expect(api.some((e) => Number(e['status_code']) >= 400 && Number(e['status_code']) < 500)).toBe(true);
    expect(api.some((e) => typeof e['ip'] === 'string' && e['country'] === undefined)).toBe(true);
    const pipelines = new Set(events.filter((e) => e.type === 'workflow_execution').map((e) => e['pipeline_type']));
    expect([...pipelines].sort()).toEqual(['api', 'etl', 'task', 'workflow']);
    const states = new Set(events.filter((e) => e.type === 'hitl_review').map((e) => e['state']));
    expect(states).toEqual(new Set(['created', 'approved']));
    expect(new Set(events.map((e) => e.project)).size).toBeGreaterThan(2);
  });

  it('follows the organization’s business hours', () => {
    for (const timezone of ['UTC', 'Asia/Kolkata', 'America/New_York']) {
      const hours = new Array<number>(24).fill(0);
      const localHour = localHourOf(timezone);
      for (const e of all({ ...base, timezone })) if (e.type !== 'gauge') hours[localHour(Date.parse(e.timestamp))]! += 1;
      const afternoon = hours[13]! + hours[14]!;
      const night = hours[2]! + hours[3]!;
      expect(afternoon, timezone).toBeGreaterThan(4 * night);
    }
  });

  it('batches preserve the sequence', () => {
    const batches = [...generateDemoBatches(base, 5_000)];
    expect(batches.map((b) => b.length)).toEqual([5_000, 5_000, 5_000, 5_000, 5_000, 3_000]);
    expect(batches.flat()).toEqual(events);
  });
});
