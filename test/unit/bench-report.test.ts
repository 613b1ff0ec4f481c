import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report.ts';

/**
 * A benchmark run rewrites only its own figures in docs/PERFORMANCE.md: the hand-written
 * notes, subsections after them and sections no benchmark writes must survive it.
 */

const previous = readFileSync(new URL('../../docs/PERFORMANCE.md', import.meta.url), 'utf8');
const machine = [['Date', '2026-12-02']];

function headings(markdown: string): string[] {
  return markdown.split('\n').filter((line) => /^#{2,3} /.test(line));
}

describe('bench report rewrite', () => {
  it('keeps every heading and hand-written paragraph of the current file when nothing ran', () => {
    const rendered = renderMarkdown(previous, [], machine);
    expect(headings(rendered)).toEqual(headings(previous));
    const machineBlock = /<!-- bench:machine -->[\s\S]*?<!-- \/bench:machine -->\n/;
    expect(rendered.replace(machineBlock, '')).toEqual(previous.replace(machineBlock, ''));
  });

  it("replaces one section's figures and keeps its notes and the subsections after them", () => {
    const withSubsection = previous.replace('<!-- /notes:soak -->', '<!-- /notes:soak -->\n\n### A hand-written subsection\n\nmeasured by hand: 42 ms');
    const rendered = renderMarkdown(withSubsection, [{ id: 'soak', scale: 'fresh scale line', tables: [], findings: ['fresh finding'] }], machine);
    const soakFigures = /<!-- bench:soak -->\n([\s\S]*?)<!-- \/bench:soak -->/.exec(rendered)?.[1] ?? '';
    expect(soakFigures).toContain('fresh scale line');
    expect(soakFigures).toContain('- fresh finding');
    expect(rendered).toContain('### A hand-written subsection\n\nmeasured by hand: 42 ms');
    expect(rendered.indexOf('### A hand-written subsection')).toBeLessThan(rendered.indexOf('## 8. Prometheus'));
    expect(rendered).toContain(/<!-- notes:soak -->[\s\S]*?<!-- \/notes:soak -->/.exec(previous)![0]);
  });
});
