/**
 * Flattens an ExportTraceServiceRequest — decoded from protobuf or parsed from OTLP JSON — into
 * plain spans with flat attributes. Pure. The two encodings differ in how they carry ids
 * (bytes vs hex strings), 64-bit integers (Long/number vs decimal strings) and enums (numbers
 * vs names); both end up in the same shape, or in a problem that names the span and the field.
 */

export type SpanAttributeValue = string | number | boolean | null;
export type SpanAttributes = Record<string, SpanAttributeValue>;

export const STATUS_CODE_ERROR = 2;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** Epoch milliseconds with microsecond fractions. */
  startMs: number;
  endMs: number;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  attributes: SpanAttributes;
  resource: SpanAttributes;
}

/** A span that could not even be read (bad id, missing time): rejected with this reason. */
export interface UnreadableSpan {
  problem: string;
}

export type FlattenedSpan = OtlpSpan | UnreadableSpan;

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const HEX = /^[0-9a-fA-F]*$/;

const HEX_BYTE = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) out += HEX_BYTE[bytes[i]!];
  return out;
}

/** A 64-bit Long as protobufjs decodes it (`long` installed): its two 32-bit halves. */
interface LongLike {
  low: number;
  high: number;
}

const isLong = (value: unknown): value is LongLike =>
  typeof value === 'object' && value !== null && typeof (value as LongLike).low === 'number' && typeof (value as LongLike).high === 'number';

/** Ids: bytes (protobuf) or hex (OTLP JSON). An all-zero id is invalid per the OTLP spec. */
function readId(value: unknown, bytes: number): string | null {
  let hex: string;
  if (value instanceof Uint8Array) hex = bytesToHex(value);
  else if (typeof value === 'string' && HEX.test(value)) hex = value.toLowerCase();
  else if (value === undefined || value === null) hex = '';
  else return null;
  if (hex.length === 0) return '';
  if (hex.length !== bytes * 2 || /^0+$/.test(hex)) return null;
  return hex;
}

/** A 64-bit integer as protobufjs (number or Long) or OTLP JSON (string or number) carries it. */
function readInt64(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (isLong(value)) return value.high * 4_294_967_296 + (value.low >>> 0);
  if (typeof value === 'bigint') return Number(value);
  return null;
}

/** Nanoseconds → epoch ms, keeping microseconds (a decimal string is split to avoid rounding away sub-ms durations). */
function readUnixNanos(value: unknown): number | null {
  if (typeof value === 'string' && /^\d+$/.test(value)) {
    if (value.length <= 6) return Number(value) / 1e6;
    return Number(value.slice(0, -3)) / 1000;
  }
  // fixed64 is unsigned: both halves read as unsigned; a double keeps ~0.25 µs of precision here
  if (isLong(value)) return ((value.high >>> 0) * 4_294_967_296 + (value.low >>> 0)) / 1e6;
  const n = readInt64(value);
  return n === null ? null : n / 1e6;
}

const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function readStatusCode(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return STATUS_NAMES[value] ?? 0;
  return 0;
}

const has = (value: Loose, key: string): boolean => Object.hasOwn(value, key) && value[key] !== undefined && value[key] !== null;

/** AnyValue → a flat attribute value; arrays and key-value lists become their JSON text. */
function readAnyValue(value: unknown): SpanAttributeValue {
  if (!isObject(value)) return null;
  if (has(value, 'stringValue')) return String(value['stringValue']);
  if (has(value, 'intValue')) return readInt64(value['intValue']);
  if (has(value, 'doubleValue')) {
    const n = Number(value['doubleValue']);
    return Number.isFinite(n) ? n : null;
  }
  if (has(value, 'boolValue')) return value['boolValue'] === true;
  if (has(value, 'arrayValue') && isObject(value['arrayValue'])) return JSON.stringify(listOf(value['arrayValue']['values']).map(readAnyValue));
  if (has(value, 'kvlistValue') && isObject(value['kvlistValue'])) return JSON.stringify(readAttributes(value['kvlistValue']['values']));
  if (has(value, 'bytesValue')) return value['bytesValue'] instanceof Uint8Array ? bytesToHex(value['bytesValue']) : String(value['bytesValue']);
  return null;
}

function readAttributes(list: unknown): SpanAttributes {
  const out: SpanAttributes = {};
  for (const item of listOf(list)) {
    if (isObject(item) && typeof item['key'] === 'string') out[item['key']] = readAnyValue(item['value']);
  }
  return out;
}

/** A field as sent: decoded protobuf messages answer defaults from their prototype for absent fields. */
const own = (value: Loose, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

function readSpan(span: Loose, resource: SpanAttributes): FlattenedSpan {
  const traceId = readId(own(span, 'traceId'), 16);
  const spanId = readId(own(span, 'spanId'), 8);
  const parentSpanId = readId(own(span, 'parentSpanId'), 8);
  const label = typeof span['name'] === 'string' ? `"${span['name']}"` : '(unnamed)';
  if (!traceId) return { problem: `span ${label}: traceId must be 16 bytes (32 hex characters), not all zero` };
  if (!spanId) return { problem: `span ${label}: spanId must be 8 bytes (16 hex characters), not all zero` };
  if (parentSpanId === null) return { problem: `span ${spanId}: parentSpanId must be empty or 8 bytes (16 hex characters)` };
  const startMs = readUnixNanos(own(span, 'startTimeUnixNano'));
  const endMs = readUnixNanos(own(span, 'endTimeUnixNano'));
  if (!startMs) return { problem: `span ${spanId}: startTimeUnixNano is required` };
  if (!endMs) return { problem: `span ${spanId}: endTimeUnixNano is required` };
  if (endMs < startMs) return { problem: `span ${spanId}: endTimeUnixNano is before startTimeUnixNano` };
  const sentStatus = own(span, 'status');
  const status = isObject(sentStatus) ? sentStatus : {};
  return {
    traceId,
    spanId,
    parentSpanId,
    name: typeof span['name'] === 'string' ? span['name'] : '',
    startMs,
    endMs,
    statusCode: readStatusCode(status['code']),
    statusMessage: typeof status['message'] === 'string' ? status['message'] : '',
    attributes: readAttributes(own(span, 'attributes')),
    resource,
  };
}

export function isUnreadable(span: FlattenedSpan): span is UnreadableSpan {
  return 'problem' in span;
}

/** Every span of the request in order; each resource's attributes travel with its spans. */
export function flattenTraceRequest(request: unknown): FlattenedSpan[] {
  const spans: FlattenedSpan[] = [];
  if (!isObject(request)) return spans;
  for (const resourceSpans of listOf(request['resourceSpans'])) {
    if (!isObject(resourceSpans)) continue;
    const sentResource = own(resourceSpans, 'resource');
    const resource = isObject(sentResource) ? readAttributes(own(sentResource, 'attributes')) : {};
    for (const scopeSpans of listOf(resourceSpans['scopeSpans'])) {
      if (!isObject(scopeSpans)) continue;
      for (const span of listOf(scopeSpans['spans'])) {
        spans.push(isObject(span) ? readSpan(span, resource) : { problem: 'a span must be an object' });
      }
    }
  }
  return spans;
}

/** Whether a parsed body has the OTLP request shape at all (a JSON body of another shape is a 400, not zero spans). */
export function looksLikeTraceRequest(request: unknown): boolean {
  return isObject(request) && (request['resourceSpans'] === undefined || Array.isArray(request['resourceSpans']));
}
