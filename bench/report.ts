import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * docs/PERFORMANCE.md. Figures live between `<!-- bench:ID -->` markers and are rewritten by
 * each run of that benchmark (sections not run keep their previous figures); the hand-written
 * analysis between `<!-- notes:ID -->` markers is kept as it is, and only seeded from the
 * templates below when missing.
 */

export interface BenchTable {
  caption?: string;
  header: string[];
  rows: string[][];
}

export interface BenchSection {
  id: SectionId;
  /** One line: what was measured at which scale. */
  scale: string;
  tables: BenchTable[];
  /** Observations computed by the run (goal met or not, ratios). */
  findings: string[];
  /** When measured, on which machine (filled by run.ts). */
  stamp?: string;
}

export type SectionId = 'ingest' | 'aggregate' | 'steady' | 'query' | 'dashboard' | 'otlp' | 'soak' | 'prometheus' | 'scale-out';

const SECTIONS: ReadonlyArray<{ id: SectionId; title: string; goal: string; notes: string }> = [
  {
    id: 'ingest',
    title: '1. Ingest throughput (`POST /api/v1/events`)',
    goal: 'Goal: ≥ 50,000 events/s with batches of 1,000 (issue 2).',
    notes: `- Every event is validated, enriched (price table, geo database), serialized and written with
  its dirty-hour mark in one transaction that is durable before the response. _Write here what a
  profile shows limits the figure._`,
  },
  {
    id: 'aggregate',
    title: '2. Aggregation (1,000,000 fresh events → hour/day/week/month rollups)',
    goal: 'Goals: full pass ≤ 5 s, steady pass with 10,000 new events ≤ 200 ms, peak RSS ≤ 300 MB (issue 3).',
    notes: `- Peak RSS is measured in a fresh child process that only aggregates (its baseline, Node + tsx +
  modules, is ~100 MB), sampled by a timer and by the kernel high-water mark. _Write here what a
  profile shows limits the full and the steady pass._`,
  },
  {
    id: 'steady',
    title: '2b. Steady pass against stored history (incremental coarse tiers)',
    goal: 'Goals: steady pass with 10,000 new events ≤ 200 ms, idle pass ≤ 5 ms, the same cost (within 20 %) whatever the stored history (issue 9; ADR 0007).',
    notes: `- The same fresh batch on top of a small and a large history, side by side in one run; CPU time of
  the aggregating child beside the wall time, since the machine is shared. _Write here what a
  profile shows limits the steady pass._`,
  },
  {
    id: 'query',
    title: '3. Query latency through HTTP (rollups vs one GROUP BY over raw events)',
    goal: 'Goals: p95 ≤ 20 ms uncached, ≤ 2 ms cached; ≥ 50× faster than the raw GROUP BY (issue 4, at 10M events / 20 orgs / 90 days).',
    notes: `- Uncached requests go through a server whose cache never hits; cached ones through the mode's
  real cache (in-process LRU for SQLite, Redis for PostgreSQL), after one warming request.
- The baseline runs seed 002's approach straight on the database (no HTTP): GROUP BY queries over
  the raw events of the same organization and range. _Write here what limits each figure._`,
  },
  {
    id: 'dashboard',
    title: '4. Dashboard first load (Chromium) and bundle size',
    goal: 'Goals: overview interactive within 1.5 s on localhost with 30 days of demo data; JavaScript ≤ 400 KB gzipped (issue 5).',
    notes: `- Measured with Chromium's navigation timing plus the time until the overview's summary cards
  show numbers (every dashboard API call answered and rendered).`,
  },
  {
    id: 'otlp',
    title: '5. OTLP trace ingest (`POST /v1/traces`)',
    goal: 'Spans/s from OpenTelemetry exporters, protobuf and JSON (issue 11).',
    notes: `- Each span is decoded (protobufjs for protobuf), mapped to an event and goes through the same
  ingest use case as \`POST /api/v1/events\` (validation, price table, durable insert with its
  dirty-hour mark). _Write here what a profile shows limits the figure._`,
  },
  {
    id: 'soak',
    title: '7. Soak: mixed ingest and queries at a fixed rate against one server',
    goal: 'Goals: zero errors; server RSS flat within 10 % after warm-up (issue 13).',
    notes: `- The server is a child \`meterboard serve\` (embedded, SQLite) on loopback; RSS is read from
  /proc at the end of each minute. _Write here what the figures show._`,
  },
  {
    id: 'prometheus',
    title: '8. Prometheus scrape of the business series (`GET /api/v1/prometheus`)',
    goal: 'Goal: a scrape of 100 organizations × the built-in catalog ≤ 50 ms, cached between aggregation passes (issue 12).',
    notes: `- Between two passes a scrape reads every organization's data version (one query for all), the
  organizations waiting for aggregation (one query) and joins cached text; the first scrape after
  a pass recomputes each organization from the rollups (five reads: all-time totals, the last
  hour's quantiles, three distinct-count windows).`,
  },
  {
    id: 'scale-out',
    title: '9. Scale-out: 1, then 2 `serve` processes + 2 workers on one PostgreSQL + Redis',
    goal: 'Ingest events/s and aggregation lag per layout, rollup totals equal to the events sent (issue 12; planning in docs/SCALING.md). Run with `--only scale-out`.',
    notes: `- Every process is \`node bin/meterboard serve|worker\` from the compiled build, on the same
  2 cores as the client, PostgreSQL and Redis. _Write here what limits the figures._`,
  },
];

export function renderMarkdown(previous: string, sections: readonly BenchSection[], machine: string[][]): string {
  const block = (kind: 'bench' | 'notes', id: string): string | undefined => {
    const match = new RegExp(`<!-- ${kind}:${id} -->\\n([\\s\\S]*?)<!-- /${kind}:${id} -->`).exec(previous);
    return match?.[1];
  };
  const out: string[] = [
    '# meterboard performance',
    '',
    '> Generated by `npm run bench` (`node --import tsx bench/run.ts --help` for options). Figures',
    '> between `bench:` markers are rewritten by each run of that benchmark; the notes between',
    '> `notes:` markers are hand-written and kept across runs.',
    '',
    '## Machine (last run)',
    '',
    '<!-- bench:machine -->',
    table({ header: ['item', 'value'], rows: machine }).trimEnd(),
    '<!-- /bench:machine -->',
    '',
  ];
  const handWritten = handWrittenSections(previous);
  for (const section of SECTIONS) {
    const fresh = sections.find((s) => s.id === section.id);
    const figures = fresh ? renderSection(fresh) : (block('bench', section.id) ?? '_Not run yet._\n');
    out.push(`## ${section.title}`, '', section.goal, '', `<!-- bench:${section.id} -->`, figures.trimEnd(), `<!-- /bench:${section.id} -->`, '');
    // Hand-written figures between the figures and the notes (e.g. a run at the issue's scale) are kept.
    const between = new RegExp(`<!-- /bench:${section.id} -->\\n([\\s\\S]*?)\\n### What limits it`).exec(previous)?.[1]?.trim();
    if (between) out.push(between, '');
    out.push('### What limits it', '', `<!-- notes:${section.id} -->`, (block('notes', section.id) ?? `${section.notes}\n`).trimEnd(), `<!-- /notes:${section.id} -->`, '');
    // Hand-written subsections after the notes (e.g. "### Rollup layout"), up to the next `## `, are kept.
    const after = new RegExp(`<!-- /notes:${section.id} -->\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(previous)?.[1]?.trim();
    if (after) out.push(after, '');
    for (const text of handWritten.get(section.title) ?? []) out.push(text.trimEnd(), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * `## ` sections of the previous file that no benchmark writes (e.g. "6. Set-up on a clean
 * clone", measured by hand), keyed by the generated section they follow, so a run keeps them.
 */
function handWrittenSections(previous: string): Map<string, string[]> {
  const generated = new Set(['Machine (last run)', ...SECTIONS.map((section) => section.title)]);
  const kept = new Map<string, string[]>();
  let after: string | null = null;
  for (const chunk of previous.split(/^(?=## )/m).filter((part) => part.startsWith('## '))) {
    const title = chunk.slice(3, chunk.indexOf('\n') === -1 ? undefined : chunk.indexOf('\n')).trim();
    if (generated.has(title)) after = title;
    else if (after !== null && after !== 'Machine (last run)') kept.set(after, [...(kept.get(after) ?? []), chunk]);
  }
  return kept;
}

function renderSection(section: BenchSection): string {
  const lines: string[] = [];
  if (section.stamp) lines.push(`_${section.stamp}_`, '');
  lines.push(`Scale: ${section.scale}`, '');
  for (const t of section.tables) {
    if (t.caption) lines.push(`**${t.caption}**`, '');
    lines.push(table(t));
  }
  if (section.findings.length > 0) lines.push(...section.findings.map((f) => `- ${f}`), '');
  return lines.join('\n');
}

function table(t: BenchTable): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const rows = [t.header, t.header.map(() => '---'), ...t.rows];
  return `${rows.map((r) => `| ${r.map(escape).join(' | ')} |`).join('\n')}\n`;
}

export function writeReport(file: string, sections: readonly BenchSection[], machine: string[][]): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, renderMarkdown(previous, sections, machine));
}
