import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageDir } from '../package-dir.ts';

/** One span as the dashboard keeps it: ids in hex, times in ms since the epoch, attributes flattened. */
export interface DevSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Absent on a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** `service.name` of the span's resource. */
  readonly service: string;
  readonly startMs: number;
  readonly durationMs: number;
  /** OTLP's status: code 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message?: string };
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly events: readonly {
    readonly name: string;
    readonly timeMs: number;
    readonly attributes: Readonly<Record<string, unknown>>;
  }[];
}

// The official OTLP definitions, compiled by protobufjs, as the OpenTelemetry
// exporters shipped them (@opentelemetry/otlp-transformer 0.57's protobuf
// root), bundled with protobufjs's runtime into one committed file by
// scripts/bundle-ui.ts: protobufjs has an install script, which pnpm refuses
// by default, and every service that installs smart-dev would have to allow it.
interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}
const root = createRequire(import.meta.url)(join(packageDir(), 'vendor', 'otlp-proto.cjs')) as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } };
};
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** An OTLP AnyValue, in either encoding. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: Uint8Array | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: Uint8Array | string;
  spanId: Uint8Array | string;
  parentSpanId?: Uint8Array | string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  events?: { name: string; timeUnixNano: string | number; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function value(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return hex(v.bytesValue);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value: v } of list ?? []) out[key] = value(v);
  return out;
}

// Bytes in protobuf; in OTLP/JSON trace and span ids are hex strings (not base64).
function hex(id: Uint8Array | string | undefined): string {
  if (id === undefined) return '';
  return typeof id === 'string' ? id.toLowerCase() : Buffer.from(id).toString('hex');
}

// Nanoseconds (a decimal string, as both decoders give int64) to milliseconds, keeping microseconds.
function ms(nanos: string | number): number {
  return Number(BigInt(nanos) / 1000n) / 1000;
}

/**
 * The spans of an OTLP/HTTP trace export, protobuf (`application/x-protobuf`)
 * or JSON (`application/json`), decoded with the official OTLP definitions.
 *
 * @example
 * const spans = decodeTraces(body, 'application/x-protobuf');
 * spans[0].service; // 'fibfrontend'
 */
export function decodeTraces(body: Buffer | unknown, contentType: string): DevSpan[] {
  const request = (
    contentType.includes('protobuf')
      ? ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body as Buffer), {
          longs: String,
          enums: Number,
        })
      : body
  ) as OtlpRequest;
  const spans: DevSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    const service = String(resource['service.name'] ?? 'unknown');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const startMs = ms(s.startTimeUnixNano);
        const parent = hex(s.parentSpanId);
        spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: parent === '' ? undefined : parent,
          name: s.name,
          kind: Number(s.kind ?? 0),
          service,
          startMs,
          durationMs: Math.max(0, ms(s.endTimeUnixNano) - startMs),
          status: { code: Number(s.status?.code ?? 0), ...(s.status?.message ? { message: s.status.message } : {}) },
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeMs: ms(e.timeUnixNano),
            attributes: attributes(e.attributes),
          })),
        });
      }
    }
  }
  return spans;
}
