import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';

/**
 * `meterboard cleanup --dry-run` tells a person where each tier's retention cuts: ISO 8601
 * instants (null for a tier kept forever), not epoch milliseconds nobody reads at a glance.
 */

const DAY = 86_400_000;

describe('cleanup output (sqlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-cleanup-'));
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the cut-offs as ISO instants: raw events 90 days back by default, week and month kept', async () => {
    const configFile = join(dir, 'meterboard.config.json');
    writeFileSync(configFile, '{}');
    process.env = { ...saved, DATA_DIR: dir, CONFIG_FILE: configFile, LOG_LEVEL: 'silent' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_KEY', 'RETENTION_RAW', 'RETENTION_WEEK', 'RETENTION_MONTH']) delete process.env[name];
    let out = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const before = Date.now();
    try {
      await buildProgram().parseAsync(['node', 'meterboard', 'cleanup', '--dry-run']);
    } finally {
      stdout.mockRestore();
    }
    const after = Date.now();
    const cutoffs = (JSON.parse(out) as { cutoffs: Record<string, string | null> }).cutoffs;
    expect(cutoffs['raw']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const raw = Date.parse(cutoffs['raw']!);
    expect(raw).toBeGreaterThanOrEqual(before - 90 * DAY);
    expect(raw).toBeLessThanOrEqual(after - 90 * DAY);
    expect(cutoffs['week']).toBeNull();
    expect(cutoffs['month']).toBeNull();
  });
});
