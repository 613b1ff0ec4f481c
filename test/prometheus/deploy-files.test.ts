import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The shipped deploy/ files (issue 12): Prometheus's own checker accepts the scrape config and
 * the alert rules, the rules cover what the issue asks for, and the Grafana dashboard is
 * import-ready (data source and organization as template variables, the panels named). That
 * every expression returns data is proven against a real Prometheus in scrape.test.ts.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = `${ROOT}deploy/prometheus/prometheus.yml`;
const RULES = `${ROOT}deploy/prometheus/meterboard.rules.yml`;

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is required (CI installs the prometheus package): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Dashboard {
  title: string;
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
  panels: Array<{ title: string; type: string; datasource?: { uid?: string }; targets?: Array<{ expr: string }>; panels?: unknown[] }>;
}

describe('deploy/prometheus and deploy/grafana', () => {
  it('promtool check config accepts the scrape config (and the rule file it names)', () => {
    const check = promtool('check', 'config', CONFIG);
    expect(check.output).toMatch(/SUCCESS: .*prometheus\.yml is valid/);
    expect(check.output).toMatch(/SUCCESS: 4 rules found/);
    expect(check.status, check.output).toBe(0);
  });

  it('promtool check rules accepts the alert rules, which cover stale aggregation, lag, error ratio and rejections', () => {
    const check = promtool('check', 'rules', RULES);
    expect(check.status, check.output).toBe(0);
    const rules = readFileSync(RULES, 'utf8');
    const alerts = [...rules.matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]);
    expect(alerts).toEqual(['MeterboardAggregationStale', 'MeterboardAggregationLagging', 'MeterboardApiErrorRatioHigh', 'MeterboardIngestRejections']);
    // scrape.test.ts evaluates the one-line `expr:` of each rule; a block scalar would escape it.
    expect([...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]).filter((expr) => !/^[|>]/.test(expr!))).toHaveLength(alerts.length);
  });

  it('the Grafana dashboard is import-ready: template variables, flat panels on the chosen data source, every asked-for panel', () => {
    const dashboard = JSON.parse(readFileSync(`${ROOT}deploy/grafana/meterboard.json`, 'utf8')) as Dashboard;
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([['datasource', 'datasource'], ['org', 'query']]);
    // No row panels with nested panels: scrape.test.ts evaluates the top-level panels' targets.
    for (const panel of dashboard.panels) {
      expect(panel.panels, panel.title).toBeUndefined();
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    const titles = dashboard.panels.map((panel) => panel.title).join(' | ');
    for (const wanted of [/Pages processed vs failed/, /Documents/, /LLM calls/, /LLM cost/, /API requests/, /error rate/, /latency/, /Active users/, /Aggregation lag/, /Ingest rate/]) {
      expect(titles).toMatch(wanted);
    }
  });

  it("the README's scrape config passes promtool check config (with its key file present)", () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## Prometheus and Grafana'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toContain('metrics_path: /api/v1/prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'meterboard-readme-scrape-'));
    try {
      const keyFile = join(dir, 'admin-key');
      writeFileSync(keyFile, 'an-admin-key\n');
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, yaml!.replace('/etc/prometheus/meterboard-admin-key', keyFile));
      const check = promtool('check', 'config', file);
      expect(check.status, check.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
