import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The import rules docs/ARCHITECTURE.md states are enforced by eslint.config.js: each case
 * lints one import as if it sat at the given path (core layers and any feature folder).
 */
const eslint = new ESLint();

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-properties').map((m) => m.message);
}

const ADAPTER = "import { x } from '../adapters/sqlite/sqlite-storage.ts';";
const FEATURE_ADAPTER = "import { x } from './adapters/smtp-mailer.ts';";
const DRIVER = "import x from 'pg';";
const SHELL = "import { x } from '../http/server.ts';";
const NODE = "import x from 'node:fs';";

describe('layer rules', () => {
  it.each([
    ['src/http/new.routes.ts', ADAPTER],
    ['src/cli/new-command.ts', ADAPTER],
    ['src/worker/new-job.ts', ADAPTER],
    ['src/http/new.routes.ts', DRIVER],
    ['src/app/new-use-case.ts', ADAPTER],
    ['src/app/new-use-case.ts', SHELL],
    ['src/domain/new-rule.ts', NODE],
    ['src/anyfeature/run-thing.ts', FEATURE_ADAPTER],
    ['src/anyfeature/run-thing.ts', ADAPTER],
    ['src/anyfeature/run-thing.ts', DRIVER],
    ['src/anyfeature/http/thing.routes.ts', FEATURE_ADAPTER],
    ['src/anyfeature/app/do-thing.ts', "import { x } from '../http/thing.routes.ts';"],
    ['src/anyfeature/ports.ts', "import { x } from './thing.routes.ts';"],
    ['src/anyfeature/domain/rule.ts', NODE],
    ['src/anyfeature/domain/rule.ts', "import { x } from '../app/do-thing.ts';"],
    ['src/anyfeature/adapters/thing-store.ts', "import { x } from '../http/thing.routes.ts';"],
    ['src/client/index.ts', "import { x } from '../domain/event.ts';"],
  ])('%s may not %s', async (filePath, code) => {
    expect(await violations(filePath, code)).not.toEqual([]);
  });

  it.each([
    ['src/compose.ts', ADAPTER],
    ['src/anyfeature/compose.ts', FEATURE_ADAPTER],
    ['src/anyfeature/adapters/thing-store.ts', DRIVER],
    ['src/anyfeature/app/do-thing.ts', "import { x } from '../ports.ts';"],
    ['src/anyfeature/http/thing.routes.ts', "import { x } from '../app/do-thing.ts';"],
    ['src/adapters/new-store.ts', DRIVER],
  ])('%s may %s', async (filePath, code) => {
    expect(await violations(filePath, code)).toEqual([]);
  });

  it('keeps the wall clock out of domain code, core and feature', async () => {
    for (const filePath of ['src/domain/new-rule.ts', 'src/anyfeature/domain/rule.ts']) {
      expect(await violations(filePath, 'const x = Date.now();')).not.toEqual([]);
    }
  });
});
