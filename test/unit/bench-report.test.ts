import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report.ts';

const machine = [['Date', '2026-12-02 11:00 UTC']];

describe('docs/PERFORMANCE.md rewrite', () => {
  it('keeps hand-written subsections after a section’s notes when another section is rewritten', () => {
    const previous = renderMarkdown('', [], machine).replace(
      '<!-- /notes:aggregate -->\n',
      '<!-- /notes:aggregate -->\n\n### Rollup layout (hand-written)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
    );
    const next = renderMarkdown(previous, [{ id: 'query', scale: 'tiny', tables: [], findings: [] }], machine);
    expect(next).toContain('### Rollup layout (hand-written)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
    expect(next).toContain('Scale: tiny');
    // A second rewrite neither drops nor duplicates it.
    const again = renderMarkdown(next, [], machine);
    expect(again).toBe(next);
  });
});
