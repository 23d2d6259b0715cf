// What a collector decodes from smart-service's OTLP/protobuf encoder is
// what it decodes from the SDK's own serializer (whose place it takes for
// speed): every field of spans, events, links, status, resources and
// scopes, every attribute type, lengths past one and two varint bytes;
// decoded with the official OTLP definitions.
import { createRequire } from 'node:module';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { decodeAnswer, encodeSpans } from '../src/plugins/tracing-otlp-proto.ts';

const require = createRequire(import.meta.url);
interface Decoder {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request: Decoder = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const Response: Decoder & { encode(message: unknown): { finish(): Uint8Array }; fromObject(o: unknown): unknown } =
  root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
// The SDK's serializer, from the OTLP exporter's own dependency.
const sdkRequire = createRequire(require.resolve('@opentelemetry/exporter-trace-otlp-proto'));
const { ProtobufTraceSerializer } = sdkRequire('@opentelemetry/otlp-transformer') as {
  ProtobufTraceSerializer: { serializeRequest(spans: ReadableSpan[]): Uint8Array };
};

const decoded = (bytes: Uint8Array) =>
  Request.toObject(Request.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true });

function spansOf(make: (provider: BasicTracerProvider) => void, resource = { 'service.name': 'svc' }) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  make(provider);
  return exporter.getFinishedSpans();
}

describe('OTLP/protobuf encoding', () => {
  it('decodes to what the SDK serializer sends, for every span field and attribute type', () => {
    const long = 'x'.repeat(300);
    const spans = spansOf((provider) => {
      const tracer = provider.getTracer('smart-service', '1.2.3');
      const remote = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: new TraceState('vendor=value,other=1'),
      });
      const server = tracer.startSpan(
        'GET /users/:id',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.route': '/users/:id',
            'http.response.status_code': 503,
            negative: -42,
            huge: 2 ** 60,
            ratio: 0.25,
            flag: false,
            text: `ünïcode ✓ ${long}`,
            list: ['a', 'b'],
            numbers: [1, 2.5, -3],
          },
        },
        remote,
      );
      server.addEvent('retry', { attempt: 2, why: 'timeout' });
      server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream down' });
      const child = tracer.startSpan(
        'SELECT',
        {
          kind: SpanKind.CLIENT,
          links: [{ context: server.spanContext(), attributes: { hedge: true } }],
        },
        trace.setSpan(ROOT_CONTEXT, server),
      );
      child.end();
      server.end();
      const other = provider.getTracer('smart-client');
      for (let i = 0; i < 120; i++) other.startSpan(`call ${i}`, { attributes: { i } }).end();
    });
    expect(decoded(encodeSpans(spans))).toEqual(decoded(ProtobufTraceSerializer.serializeRequest(spans)));
  });

  it('keeps spans of different resources apart', () => {
    const a = spansOf((p) => p.getTracer('t').startSpan('a').end(), { 'service.name': 'a' });
    const b = spansOf((p) => p.getTracer('t').startSpan('b').end(), { 'service.name': 'b' });
    const spans = [...a, ...b];
    expect(decoded(encodeSpans(spans))).toEqual(decoded(ProtobufTraceSerializer.serializeRequest(spans)));
  });

  it("reads a collector's partial success (rejected spans and message), which the exporter logs", () => {
    const body = Response.encode(
      Response.fromObject({ partialSuccess: { rejectedSpans: 3, errorMessage: 'too old' } }),
    ).finish();
    expect(decodeAnswer(body)).toEqual({ partialSuccess: { rejectedSpans: 3, errorMessage: 'too old' } });
    expect(decodeAnswer(new Uint8Array())).toEqual({});
  });
});
