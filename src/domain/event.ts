/** Flat attribute values, as SPEC §2 allows. */
export type AttributeValue = string | number | boolean | null;
export type Attributes = Record<string, AttributeValue>;

/** Envelope fields that are columns, never attributes. */
export const ENVELOPE_FIELDS = ['id', 'type', 'timestamp', 'project', 'tag'] as const;

/** An event as validated by ingest, ready to be stored. */
export interface NewEvent {
  /** Idempotency key (≤ 128 chars). Generated (uuid) when the sender gave none. */
  id: string;
  type: string;
  /** Epoch milliseconds (UTC instant). */
  ts: number;
  project: string;
  tag: string;
  /** Everything but the envelope, after derivations (cost_usd, total_tokens, country, cost_source). */
  attrs: Attributes;
  /**
   * Events sharing a supersede key replace each other: only the latest counts (the rule is
   * domain/supersede.ts). Events pulled from a SQL source use their `source_row` (one source
   * row, whatever its type); otherwise `file_execution` uses `execution_id` + `file_name`.
   */
  supersedeKey: string | null;
}

/** An event as the store returns it. */
export interface StoredEvent extends NewEvent {
  orgId: string;
  receivedAt: number;
}

/** Set by SQL sources (src/sources): `<source>:<table>:<primary key>` of the row an event was read from. */
export const SOURCE_ROW_ATTRIBUTE = 'source_row';

export function supersedeKeyOf(type: string, attrs: Attributes): string | null {
  // A re-read source row whose content changed supersedes its earlier version, for every type.
  const sourceRow = attrs[SOURCE_ROW_ATTRIBUTE];
  if (typeof sourceRow === 'string' && sourceRow.length > 0) return `source_row\u0000${sourceRow}`;
  if (type === 'file_execution') {
    const execution = attrs['execution_id'];
    const file = attrs['file_name'];
    if (execution == null || file == null) return null;
    return `file_execution\u0000${String(execution)}\u0000${String(file)}`;
  }
  return null;
}
