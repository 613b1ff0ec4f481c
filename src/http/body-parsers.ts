import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { UnparseableEvent } from '../app/ingest-events.ts';

/**
 * Request bodies: JSON with parse errors that say where they are, NDJSON where a bad line is a
 * rejection of that line only, and gzip/deflate bodies decompressed before parsing. Fastify's
 * body limit counts the decompressed bytes, so a small "zip bomb" still answers 413.
 */

export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

class BadRequestBody extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function withoutProtoKeys(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, '__proto__')) {
    delete (value as Record<string, unknown>)['__proto__'];
  }
  return value;
}

/** JSON.parse, minus `__proto__` keys (checked only when the text mentions them, to keep big batches fast). */
export function parseJsonText(text: string): unknown {
  return text.includes('__proto__') ? JSON.parse(text, withoutProtoKeys) : JSON.parse(text);
}

function jsonProblem(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Each non-blank line is one event; a line that is not JSON becomes an UnparseableEvent at its index. */
export function parseNdjson(text: string): unknown[] {
  const events: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    try {
      events.push(parseJsonText(line));
    } catch (error) {
      events.push(new UnparseableEvent(`line ${i + 1} is not valid JSON: ${jsonProblem(error)}`));
    }
  }
  return events;
}

/** Counts compressed bytes as they pass, so fastify can check Content-Length against what was sent. */
function decompressing(payload: Readable, decoder: Transform): Readable & { receivedEncodedLength: number } {
  const counted = Object.assign(decoder, { receivedEncodedLength: 0 });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counted.receivedEncodedLength += chunk.length;
      callback(null, chunk);
    },
  });
  decoder.on('error', (error: Error & { statusCode?: number; code?: string }) => {
    error.statusCode = 400;
    error.message = `request body could not be decompressed: ${error.message}`;
  });
  payload.on('error', (error) => decoder.destroy(error));
  payload.pipe(counter).pipe(decoder);
  return counted;
}

export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim().length === 0) {
      done(new BadRequestBody('FST_ERR_CTP_EMPTY_JSON_BODY', 'request body is empty; send a JSON document'), undefined);
      return;
    }
    try {
      done(null, parseJsonText(text));
    } catch (error) {
      done(new BadRequestBody('FST_ERR_CTP_INVALID_JSON_BODY', `request body is not valid JSON: ${jsonProblem(error)}`), undefined);
    }
  });
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseNdjson(body as string));
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    if (encoding === 'gzip' || encoding === 'x-gzip') return decompressing(payload, createGunzip());
    if (encoding === 'deflate') return decompressing(payload, createInflate());
    throw Object.assign(new Error(`unsupported Content-Encoding "${encoding}"; use gzip, deflate or identity`), {
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE_ENCODING',
    });
  });
}
