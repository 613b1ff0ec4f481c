import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report.ts';

describe('bench report (docs/PERFORMANCE.md rewrite)', () => {
  const machine = [['Date', '2026-12-02 11:00 UTC']];
  const previous = renderMarkdown('', [], machine);

  it('keeps hand-written subsections after a section\'s notes when another section is re-run', () => {
    const handWritten = '### Rollup layout (hand-written)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- a measured note';
    const withSubsection = previous.replace('<!-- /notes:aggregate -->\n', `<!-- /notes:aggregate -->\n\n${handWritten}\n`);
    const rerun = renderMarkdown(withSubsection, [{ id: 'steady', scale: 'tiny', tables: [], findings: ['fresh figure'] }], machine);
    expect(rerun).toContain(handWritten);
    expect(rerun).toContain('fresh figure');
    // and it stays where it was: after § 2's notes, before § 2b.
    expect(rerun.indexOf(handWritten)).toBeGreaterThan(rerun.indexOf('<!-- /notes:aggregate -->'));
    expect(rerun.indexOf(handWritten)).toBeLessThan(rerun.indexOf('<!-- bench:steady -->'));
  });

  it('changes nothing when no section is re-run', () => {
    const withSubsection = previous.replace('<!-- /notes:aggregate -->\n', '<!-- /notes:aggregate -->\n\n### Kept\n\ntext\n');
    expect(renderMarkdown(withSubsection, [], machine)).toBe(withSubsection);
  });
});
