import protobuf from 'protobufjs';

/**
 * The OTLP/HTTP protobuf messages meterboard reads and writes, as a protobufjs reflection root.
 * Field numbers and types follow the official opentelemetry-proto v1 definitions
 * (collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto,
 * resource/v1/resource.proto) and google/rpc/status.proto. Only the fields meterboard uses are
 * declared: protobuf decoders skip unknown fields, so span events, links and trace state
 * simply pass by.
 */

const descriptor = {
  nested: {
    otlp: {
      nested: {
        ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
        ExportTraceServiceResponse: { fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } } },
        ExportTracePartialSuccess: {
          fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        ScopeSpans: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            spans: { rule: 'repeated', type: 'Span', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        InstrumentationScope: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            parentSpanId: { type: 'bytes', id: 4 },
            name: { type: 'string', id: 5 },
            kind: { type: 'int32', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
            status: { type: 'SpanStatus', id: 15 },
          },
        },
        SpanStatus: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        RpcStatus: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const requestType = root.lookupType('otlp.ExportTraceServiceRequest');
const responseType = root.lookupType('otlp.ExportTraceServiceResponse');
const statusType = root.lookupType('otlp.RpcStatus');

/**
 * Decodes an ExportTraceServiceRequest into protobufjs messages: fields present on the wire are
 * own properties (absent ones answer prototype defaults, which otlp-spans.ts tells apart with
 * Object.hasOwn), ids are bytes, 64-bit integers Long or number. Throws on malformed bytes.
 * No toObject pass: converting every message again costs more than the decoding itself.
 */
export function decodeTraceRequest(bytes: Uint8Array): unknown {
  return requestType.decode(bytes);
}

export function encodeTraceResponse(partialSuccess: { rejectedSpans: number; errorMessage: string } | null): Uint8Array {
  const message = responseType.create(partialSuccess ? { partialSuccess } : {});
  return responseType.encode(message).finish();
}

/** google.rpc.Status, the body of every OTLP/HTTP 4xx/5xx answer. */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return statusType.encode(statusType.create({ code, message })).finish();
}

/** Test and benchmark helper: encodes a request given in the OTLP JSON shape (ids as hex). */
export function encodeTraceRequestFromJson(json: unknown): Uint8Array {
  return requestType.encode(requestType.fromObject(hexIdsToBytes(json) as Record<string, unknown>)).finish();
}

function hexIdsToBytes(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && (key === 'traceId' || key === 'spanId' || key === 'parentSpanId')) return Buffer.from(value, 'hex');
  if (Array.isArray(value)) return value.map((item) => hexIdsToBytes(item));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hexIdsToBytes(v, k)]));
  }
  return value;
}
