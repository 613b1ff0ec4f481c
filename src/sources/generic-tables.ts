import type { Attributes } from '../domain/event.ts';
import type { SourceConfig, TableConfig } from './source-config.ts';
import { ISO_UTC_MS, quoteIdentifier, toAttributeValue, type TablePull } from './table-pull.ts';
import { UNSTRACT_TABLES } from './unstract-preset.ts';

/** A `tables` entry as a keyset pull: each row one event of the configured type. */
export function genericTable(table: TableConfig): TablePull {
  const t = 't';
  const col = (name: string) => `${t}.${quoteIdentifier(name)}`;
  const attributeNames = Object.keys(table.attributes);
  const selected = attributeNames.map((attr, index) => `${col(table.attributes[attr]!)} AS "a_${index}"`);
  const change = table.modified === undefined ? col(table.created) : `GREATEST(${col(table.created)}, ${col(table.modified)})`;
  const baseSql = [
    `SELECT ${col(table.key)}::text AS row_key, ${change} AS change_at, ${ISO_UTC_MS(col(table.created))} AS event_at,`,
    `  ${table.org_column === undefined ? 'NULL::text' : `${col(table.org_column)}::text`} AS source_org`,
    ...selected.map((s) => `  , ${s}`),
    `FROM ${quoteIdentifier(table.table)} AS ${t}`,
  ].join('\n');
  return {
    key: table.table,
    eventType: table.event,
    baseSql,
    toAttributes(row) {
      const attrs: Attributes = {};
      attributeNames.forEach((attr, index) => {
        const value = toAttributeValue(row[`a_${index}`]);
        if (value !== undefined) attrs[attr] = value;
      });
      return attrs;
    },
  };
}

/** The tables a source pulls, in order. */
export function tablesOf(source: SourceConfig): readonly TablePull[] {
  if (source.preset === 'unstract') return UNSTRACT_TABLES;
  return (source.tables ?? []).map(genericTable);
}
