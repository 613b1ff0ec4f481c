import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report.ts';

/** The machine table of a rendered report, as the rows renderMarkdown takes. */
function machineRows(markdown: string): string[][] {
  const body = /<!-- bench:machine -->\n([\s\S]*?)<!-- \/bench:machine -->/.exec(markdown)?.[1] ?? '';
  return body.trim().split('\n').slice(2).map((line) => line.slice(2, -2).split(' | '));
}

describe('bench report (docs/PERFORMANCE.md)', () => {
  it('a run that measured nothing rewrites nothing: every hand-written line of the real file is kept', () => {
    const current = readFileSync(new URL('../../docs/PERFORMANCE.md', import.meta.url), 'utf8');
    expect(renderMarkdown(current, [], machineRows(current))).toBe(current);
  });

  it('keeps hand-written ### subsections after a section\'s notes, once, in place', () => {
    const first = renderMarkdown('', [], [['Date', 'then']]);
    const withSubsection = first.replace('<!-- /notes:aggregate -->\n', '<!-- /notes:aggregate -->\n\n### Rollup layout\n\nMeasured by hand.\n');
    const rendered = renderMarkdown(withSubsection, [], [['Date', 'now']]);
    expect(rendered.split('### Rollup layout')).toHaveLength(2);
    expect(rendered.indexOf('### Rollup layout')).toBeGreaterThan(rendered.indexOf('<!-- /notes:aggregate -->'));
    expect(rendered.indexOf('### Rollup layout')).toBeLessThan(rendered.indexOf('<!-- bench:steady -->'));
    expect(rendered).toContain('Measured by hand.');
  });
});
