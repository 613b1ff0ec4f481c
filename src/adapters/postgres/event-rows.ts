import type { Attributes, StoredEvent } from '../../domain/event.ts';

/**
 * PostgreSQL text cannot hold U+0000, which the domain uses to separate supersede-key parts.
 * This reversible escape keeps distinct keys distinct (equality is all the store relies on).
 */
export function encodeSupersedeKey(key: string | null): string | null {
  if (key === null) return null;
  return key.replaceAll('\\', '\\\\').replaceAll('\u0000', '\\0');
}

export function decodeSupersedeKey(stored: string | null): string | null {
  if (stored === null) return null;
  return stored.replace(/\\(\\|0)/g, (_match, escaped: string) => (escaped === '0' ? '\u0000' : '\\'));
}

/** The columns of EVENT_COLUMNS, in order: rows are read in pg's array mode (no per-row objects). */
export type EventRow = [
  orgId: string,
  id: string,
  type: string,
  ts: number,
  receivedAt: number,
  project: string,
  tag: string,
  attrs: Attributes,
  supersedeKey: string | null,
];

export const EVENT_COLUMNS = 'org_id, id, type, ts, received_at, project, tag, attrs, supersede_key';

export function toStoredEvent(row: EventRow): StoredEvent {
  const [orgId, id, type, ts, receivedAt, project, tag, attrs, supersedeKey] = row;
  return { orgId, id, type, ts, receivedAt, project, tag, attrs, supersedeKey: decodeSupersedeKey(supersedeKey) };
}
