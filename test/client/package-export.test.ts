import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';

/**
 * `import { Meterboard } from 'meterboard/client'` as a user's program does it: the package's
 * `exports` resolve to the built JavaScript, which loads in a plain Node.js process and pulls in
 * no server code.
 */

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const dist = path.join(root, 'dist/client');

beforeAll(async () => {
  await run('npx', ['tsc', '-p', 'tsconfig.client.json'], { cwd: root });
}, 180_000);

describe('meterboard/client package export', () => {
  test('the built client imports only its own files, Node built-ins and fastify-plugin', () => {
    const imports = readdirSync(dist)
      .filter((file) => file.endsWith('.js'))
      .flatMap((file) => [...readFileSync(path.join(dist, file), 'utf8').matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!));
    const outside = imports.filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('node:') && specifier !== 'fastify-plugin');
    expect(outside).toEqual([]);
  });

  test('a plain Node.js process loads meterboard/client and its middleware through the package exports', async () => {
    const script = [
      "const { Meterboard, events } = await import('meterboard/client');",
      "const { meterboardRequestLog } = await import('meterboard/client/express');",
      "const fastify = await import('meterboard/client/fastify');",
      "const client = new Meterboard({ url: 'http://127.0.0.1:9', apiKey: 'k', flushOnExit: false });",
      "const event = events.llmCall({ model: 'gpt-4o', input_tokens: 3 });",
      "console.log(JSON.stringify({ type: event.type, hasId: typeof event.id === 'string', express: typeof meterboardRequestLog, fastify: typeof fastify.meterboardRequestLog, queued: client.stats().queued }));",
      'process.exit(0);',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ type: 'llm_call', hasId: true, express: 'function', fastify: 'function', queued: 0 });
  }, 60_000);
});
