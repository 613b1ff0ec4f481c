import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The drop-in set-ups of docs/UNSTRACT.md, run for real: the shipped Node proxy
 * (deploy/unstract/key-proxy.mjs) and the shipped nginx template in a real nginx, plus a
 * stand-in Unstract backend for the paths that stay with Unstract, and the shipped replay
 * (deploy/unstract/replay.mjs) as a child process.
 */

const DEPLOY = resolve(import.meta.dirname, '../../deploy/unstract');
export const NGINX_BINARY = '/usr/sbin/nginx';

export interface Running {
  port: number;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((done) => child.once('exit', () => done()));
}

/** A free port on 127.0.0.1 (bound and released; nginx needs a number up front). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

/** The Unstract backend for everything the proxy does not send to meterboard: OSS has no subscription endpoints. */
export async function startUnstractBackendStandIn(): Promise<Running & { seen: Array<{ path: string; cookie: string | undefined; authorization: string | undefined }> }> {
  const seen: Array<{ path: string; cookie: string | undefined; authorization: string | undefined }> = [];
  const server: Server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', cookie: request.headers.cookie, authorization: request.headers.authorization });
    const body = JSON.stringify(request.url?.includes('/subscription/') ? { type: 'client_error', errors: [{ code: 'not_found', detail: 'Not found.', attr: null }] } : { backend: 'unstract' });
    response.writeHead(request.url?.includes('/subscription/') ? 404 : 200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    stop: () => new Promise((done) => server.close(() => done())),
  };
}

/** deploy/unstract/key-proxy.mjs as the docs run it. */
export async function startKeyProxy(env: { MB_UPSTREAM: string; MB_READ_KEY: string; UNSTRACT_UPSTREAM?: string }): Promise<Running> {
  const child = spawn(process.execPath, [join(DEPLOY, 'key-proxy.mjs')], { env: { PATH: process.env['PATH'], ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) done(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`key-proxy exited (${code}): ${output}`)));
  });
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

export interface NginxSite {
  listen: number;
  meterboard: string;
  readKey: string;
  unstract: string;
}

/** deploy/unstract/nginx.conf.template filled in as its header says (envsubst of its four names), once per site, in a real nginx. */
export async function startNginx(sites: readonly NginxSite[]): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'meterboard-nginx-'));
  const template = readFileSync(join(DEPLOY, 'nginx.conf.template'), 'utf8');
  const siteFiles = sites.map((site, i) => {
    const values: Record<string, string> = { LISTEN: `127.0.0.1:${site.listen}`, MB_UPSTREAM: site.meterboard, MB_READ_KEY: site.readKey, UNSTRACT_UPSTREAM: site.unstract };
    const file = join(dir, `site-${i}.conf`);
    writeFileSync(file, template.replace(/\$\{(LISTEN|MB_UPSTREAM|MB_READ_KEY|UNSTRACT_UPSTREAM)\}/g, (_, name: string) => values[name]!));
    return file;
  });
  mkdirSync(join(dir, 'temp'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      // Answers are small: nothing is spooled to disk, so the temp paths only need to exist.
      '  proxy_max_temp_file_size 0;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, 'temp')};`),
      ...siteFiles.map((file) => `  include ${file};`),
      '}',
    ].join('\n'),
  );
  const child = spawn(NGINX_BINARY, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Ready when every site accepts a request.
  for (const site of sites) {
    for (let attempt = 0; ; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${output}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      const answered = await fetch(`http://127.0.0.1:${site.listen}/`).then(() => true, () => false);
      if (answered) break;
      if (attempt > 200) throw new Error(`nginx did not listen on ${site.listen}: ${output}`);
      await new Promise((done) => setTimeout(done, 25));
    }
  }
  return {
    port: sites[0]!.listen,
    async stop() {
      child.kill('SIGQUIT');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** deploy/unstract/replay.mjs against `base`: its exit code and report. */
export function runReplay(base: string, org: string, now: number): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(DEPLOY, 'replay.mjs'), '--base', base, '--org', org, '--now', new Date(now).toISOString(), '--require-data'], { timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}
