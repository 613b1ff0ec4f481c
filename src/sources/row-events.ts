import type { Attributes } from '../domain/event.ts';
import type { SourceRow, TablePull } from './table-pull.ts';
import { num, text } from './table-pull.ts';

/**
 * Source rows as ingest events (pure). A row's event id is derived from the row and its
 * version, so re-reading an unchanged row is a duplicate, while a changed row yields a new
 * event that supersedes the earlier one through the `source_row` attribute (see
 * `supersedeKeyOf` in src/domain/event.ts).
 */

import { SOURCE_ROW_ATTRIBUTE } from '../domain/event.ts';
const MAX_EVENT_ID = 128;

/** cyrb53: a fast 53-bit string hash, as 14 hex digits. Identifies, never protects. */
export function hash53(input: string, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < input.length; i++) {
    const ch = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

function canonicalAttributes(attrs: Attributes): string {
  return JSON.stringify(Object.keys(attrs).sort().map((key) => [key, attrs[key]]));
}

/**
 * `<source>:<table>:<row key>@<change µs, zero-padded>.<content hash>`: within one row, a later
 * version sorts after an earlier one byte-wise, which is the supersede tie-breaker when two
 * versions share a timestamp and an ingest instant. Too long ids hash the row part.
 */
export function sourceEventId(rowIdentity: string, changeUs: number, attrs: Attributes): string {
  const version = `${String(Math.max(0, Math.trunc(changeUs))).padStart(17, '0')}.${hash53(canonicalAttributes(attrs)).slice(0, 8)}`;
  const readable = `${rowIdentity}@${version}`;
  if (readable.length <= MAX_EVENT_ID) return readable;
  const [source = ''] = rowIdentity.split(':', 1);
  return `${source}:h${hash53(rowIdentity)}${hash53(rowIdentity, 1)}@${version}`;
}

export interface RowEvent {
  /** Source organization id from the row; null when the source maps everything to one org. */
  sourceOrg: string | null;
  /** The event as ingest receives it. */
  event: Record<string, unknown>;
  changeUs: number;
  rowKey: string;
}

/** Maps one keyset row; null when the table skips it or the row lacks its key or timestamps. */
export function rowToEvent(sourceName: string, table: TablePull, row: SourceRow): RowEvent | null {
  const rowKey = text(row, 'row_key');
  const changeUs = num(row, 'change_us');
  const timestamp = text(row, 'event_at');
  if (rowKey === null || changeUs === null || timestamp === null) return null;
  const mapped = table.toAttributes(row);
  if (mapped === null) return null;
  const attrs: Attributes = {};
  for (const [key, value] of Object.entries(mapped)) if (value !== null && value !== undefined) attrs[key] = value;
  const identity = `${sourceName}:${table.key}:${rowKey}`;
  attrs[SOURCE_ROW_ATTRIBUTE] = identity;
  return {
    sourceOrg: text(row, 'source_org'),
    event: { ...attrs, id: sourceEventId(identity, changeUs, attrs), type: table.eventType, timestamp },
    changeUs,
    rowKey,
  };
}
