// An OTLP/HTTP trace receiver on loopback for tests: what a collector would
// get, decoded with the official OTLP definitions (the protobuf root that
// @opentelemetry/otlp-transformer generated from opentelemetry-proto) or,
// for http/json, JSON.parse. It can also play a collector that is down
// (connections refused) or hanging (accepts, never answers).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
// The last release of otlp-transformer that ships the generated root (later ones encode by hand and decode nothing).
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: {
              decode(bytes: Uint8Array): unknown;
              toObject(message: unknown, options: Record<string, unknown>): unknown;
            };
          };
        };
      };
    };
  };
};
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** A received span, flattened: ids in hex, attributes and the resource's as plain values. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
  readonly statusCode: number;
  /** How it arrived. */
  readonly encoding: 'protobuf' | 'json';
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: KeyValue[];
  status?: { code?: number };
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function anyValue(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

const hex = (id: unknown) =>
  id instanceof Uint8Array ? Buffer.from(id).toString('hex') : typeof id === 'string' ? id.toLowerCase() : '';

function flatten(request: OtlpRequest, encoding: 'protobuf' | 'json'): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const parent = hex(span.parentSpanId);
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: parent === '' ? undefined : parent,
          name: span.name,
          kind: span.kind ?? 0,
          attributes: attributesOf(span.attributes),
          resource,
          statusCode: span.status?.code ?? 0,
          encoding,
        });
      }
    }
  }
  return spans;
}

/** A receiver's behaviour: answer, hang (never answer), or refuse connections (closed). */
export type ReceiverMode = 'ok' | 'hang';

export interface OtlpReceiver {
  /** The base URL (for OTEL_EXPORTER_OTLP_ENDPOINT); spans are posted to `${url}/v1/traces`. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Every request body as it arrived, undecoded (to search for text that must not be there). */
  readonly raw: Buffer[];
  mode: ReceiverMode;
  /** Resolves once `predicate` holds for the spans received (polling), or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 (port 0).
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * // env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
 * await receiver.waitFor((spans) => spans.length >= 3);
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const raw: Buffer[] = [];
  const hanging = new Set<ServerResponse>();
  const receiver = {
    mode: 'ok' as ReceiverMode,
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (receiver.mode === 'hang') {
      hanging.add(res);
      return;
    }
    const body = Buffer.concat(chunks);
    raw.push(body);
    const json = String(req.headers['content-type']).includes('json');
    const decoded = json
      ? (JSON.parse(body.toString('utf8')) as OtlpRequest)
      : (ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), {
          longs: String,
          defaults: false,
        }) as OtlpRequest);
    spans.push(...flatten(decoded, json ? 'json' : 'protobuf'));
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    spans,
    raw,
    async waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > until)
          throw new Error(`spans not received in ${timeoutMs} ms; got ${JSON.stringify(spans.map((s) => s.name))}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return spans;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  });
}

/** A loopback URL nothing listens on (a receiver that is down). */
export async function closedUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}
