import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLogLine, logDestination } from '../../src/adapters/logging/log-destination.ts';
import { isQuietRoute } from '../../src/http/server.ts';

describe('log destination', () => {
  it('formats a pino line as time, level, message and the remaining fields', () => {
    const time = Date.UTC(2026, 11, 2, 5, 6, 7);
    const line = formatLogLine(JSON.stringify({ level: 40, time, service: 'meterboard', msg: 'cache down', url: 'redis://x', attempts: 3 }), false);
    expect(line).toMatch(/^\d{2}:\d{2}:\d{2} WARN {2}cache down url=redis:\/\/x attempts=3\n$/);
    const completed = formatLogLine(JSON.stringify({ level: 30, time, reqId: 'r1', res: { statusCode: 201 }, responseTime: 12.4, msg: 'request completed' }), false);
    expect(completed).toContain('→ 201 in 12 ms');
    expect(formatLogLine('not json', false)).toBe('not json');
  });

  it('writes JSON lines unless asked for pretty output or writing to a terminal', () => {
    const out = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    expect(logDestination('auto', out)).toBe(out);
    expect(logDestination('json', out)).toBe(out);
    expect(logDestination('pretty', out)).not.toBe(out);
    const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    expect(logDestination('auto', tty)).not.toBe(tty);
  });

  it('keeps probes, scrapes and dashboard files out of the info log, never the API', () => {
    for (const url of ['/health', '/ready', '/metrics', '/', '/assets/index-1.js']) expect(isQuietRoute(url), url).toBe(true);
    for (const url of ['/api/v1/events', '/api/v1/orgs/:org/summary', '/v1/traces']) expect(isQuietRoute(url), url).toBe(false);
  });
});
