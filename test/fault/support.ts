import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The fault suite runs the real CLI as child processes (`node bin/meterboard …`) so that it can
 * kill them, and owns every server it stops (its own redis-server, its own PostgreSQL schema).
 */

export const BIN = path.join(fileURLToPath(new URL('../..', import.meta.url)), 'bin/meterboard');
export const FAULT_ADMIN_KEY = 'fault-admin-key-0123456789abcdef';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stderr and stdout so far (for failure messages). */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export function runCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function waitUntil(condition: () => Promise<boolean>, what: string, deadlineMs: number, process?: CliProcess): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if (process && process.child.exitCode !== null) throw new Error(`process exited (${process.child.exitCode}) while waiting for ${what}:\n${process.output()}`);
    if (await condition().catch(() => false)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${process ? `:\n${process.output()}` : ''}`);
}
