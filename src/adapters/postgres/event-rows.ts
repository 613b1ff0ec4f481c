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

export interface EventRow {
  org_id: string;
  id: string;
  type: string;
  ts: number;
  received_at: number;
  project: string;
  tag: string;
  attrs: Attributes;
  supersede_key: string | null;
}

export const EVENT_COLUMNS = 'org_id, id, type, ts, received_at, project, tag, attrs, supersede_key';

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    orgId: row.org_id,
    id: row.id,
    type: row.type,
    ts: row.ts,
    receivedAt: row.received_at,
    project: row.project,
    tag: row.tag,
    attrs: row.attrs,
    supersedeKey: decodeSupersedeKey(row.supersede_key),
  };
}
