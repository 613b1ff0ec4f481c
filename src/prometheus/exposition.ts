import type { MetricDefinition } from '../domain/metrics/definition.ts';

/**
 * Pure part of the Prometheus export: family names for catalog metrics and the text
 * exposition format (version 0.0.4). Every name it produces passes `promtool check metrics`:
 * [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in `_total`, no abbreviated units (millisecond metrics
 * are exported in seconds, the base unit).
 */

export const PREFIX = 'meterboard_';
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type FamilyType = 'counter' | 'gauge' | 'summary';

export interface Family {
  name: string;
  type: FamilyType;
  help: string;
}

export interface Sample {
  /** The sample's own name (`family` or `family_sum` / `family_count` for summaries). */
  name: string;
  labels: ReadonlyArray<readonly [string, string]>;
  value: number;
}

/** A metric as exported: its family name, and the factor that turns stored values into base units. */
export interface ExportedName {
  base: string;
  scale: number;
}

/** `trace.duration_ms` → `meterboard_trace_duration_seconds` (values × 0.001); `trace.count` → `meterboard_trace_count`. */
export function exportedName(metric: Pick<MetricDefinition, 'name' | 'unit'>): ExportedName {
  let name = metric.name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_');
  let scale = 1;
  if (/_ms$/.test(name) || (metric.unit === 'ms' && !/_ms$/.test(name))) {
    name = /_ms$/.test(name) ? `${name.slice(0, -3)}_seconds` : `${name}_seconds`;
    scale = 0.001;
  }
  if (/_total$/.test(name)) name = name.slice(0, -'_total'.length);
  return { base: `${PREFIX}${name}`, scale };
}

/** A label name from an attribute name (`status_code` stays, `x.y` → `x_y`); `org` and reserved names get a suffix. */
export function labelName(attribute: string): string {
  let name = attribute.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(name)) name = `_${name}`;
  if (name.startsWith('__') || ['org', 'quantile', 'window', 'le', 'name'].includes(name)) name = `${name}_attr`;
  return name;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function sampleLine(sample: Sample): string {
  const labels = sample.labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',');
  return `${sample.name}{${labels}} ${formatValue(sample.value)}\n`;
}

export function familyHeader(family: Family): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
}

/**
 * Lines grouped by family (the format wants one contiguous group per family), families in
 * first-seen order across all parts. Each part is one organization's rendered lines.
 */
export function renderFamilies(families: ReadonlyMap<string, Family>, parts: ReadonlyArray<ReadonlyMap<string, string>>): string {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    for (const name of part.keys()) {
      if (!seen.has(name)) {
        seen.add(name);
        order.push(name);
      }
    }
  }
  let text = '';
  for (const name of order) {
    const family = families.get(name);
    if (family === undefined) continue;
    text += familyHeader(family);
    for (const part of parts) text += part.get(name) ?? '';
  }
  return text;
}
