import { Writable } from 'node:stream';

/**
 * Where pino writes: JSON lines when stdout is a file, a pipe or a log collector; short
 * human-readable lines on a terminal (`LOG_FORMAT=json|pretty` overrides, read by the config). A tiny formatter
 * rather than pino-pretty: no worker thread at start, and the CLI stays quick.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '36', 40: '33', 50: '31', 60: '35' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'reqId', 'req', 'res', 'responseTime', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Object && 'message' in v && typeof (v as { message: unknown }).message === 'string') return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v);
}

/** One pino JSON line as `HH:MM:SS LEVEL message key=value …`. */
export function formatLogLine(line: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = Number(entry['level']);
  const time = new Date(Number(entry['time'] ?? Date.now())).toTimeString().slice(0, 8);
  const label = LEVELS[level] ?? String(entry['level']);
  const paint = (text: string) => (color ? `\u001b[${COLORS[level] ?? '0'}m${text}\u001b[0m` : text);
  const req = entry['req'] as { method?: string; url?: string } | undefined;
  const res = entry['res'] as { statusCode?: number } | undefined;
  let message = String(entry['msg'] ?? '');
  if (req?.method) message = `${req.method} ${req.url ?? ''}`;
  if (res?.statusCode !== undefined) message = `${message === 'request completed' ? '→' : message} ${res.statusCode} in ${Math.round(Number(entry['responseTime'] ?? 0))} ms`;
  const rest = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, v]) => `${key}=${value(v)}`)
    .join(' ');
  const err = entry['err'] as { stack?: string } | undefined;
  return `${time} ${paint(label)} ${message}${rest ? ` ${color ? `\u001b[90m${rest}\u001b[0m` : rest}` : ''}${err?.stack && level >= 50 ? `\n${err.stack}` : ''}\n`;
}

export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') out.write(formatLogLine(line, out.isTTY === true));
      done();
    },
  });
}

export function logDestination(format: 'auto' | 'json' | 'pretty', out: NodeJS.WriteStream = process.stdout): NodeJS.WritableStream {
  const pretty = format === 'pretty' || (format !== 'json' && out.isTTY === true);
  return pretty ? prettyStream(out) : out;
}
