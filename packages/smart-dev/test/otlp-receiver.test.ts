// The dashboard's OTLP/HTTP receiver, fed by the official OpenTelemetry
// exporters (protobuf and JSON) as a service would feed it.
import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, type DashboardSource, startDashboard } from '../src/index.ts';
import type { DevLogLine } from '../src/types.ts';

class FakeSession extends EventEmitter {
  readonly services = new Map();
  readonly atlasUrl = 'http://127.0.0.1:1';
  atlasClient() {
    return undefined;
  }
  logs(): DevLogLine[] {
    return [];
  }
}

let dashboard: Dashboard;
const session = new FakeSession();

beforeAll(async () => {
  dashboard = await startDashboard({ source: session as unknown as DashboardSource, port: 0 });
});
afterAll(async () => {
  await dashboard?.close();
});

const tracerOf = (service: string, exporter: SpanExporter) => {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, tracer: provider.getTracer('test') };
};

/** A gateway request that calls fizz and buzz in parallel, each side exported by its own "service". */
async function fizzbuzz(exporter: () => SpanExporter, requestId: string, fail = false) {
  const gateway = tracerOf('gateway', exporter());
  const fizz = tracerOf('fizz', exporter());
  const buzz = tracerOf('buzz', exporter());
  const root = gateway.tracer.startSpan('GET /fizzbuzz/:n', {
    kind: 1,
    attributes: { 'http.route': '/fizzbuzz/:n', 'http.request.method': 'GET', 'smart.request_id': requestId },
  });
  const underRoot = trace.setSpan(ROOT_CONTEXT, root);
  const server = (t: typeof fizz, name: string, parent: Span) => {
    const span = t.tracer.startSpan(name, { kind: 1 }, trace.setSpanContext(ROOT_CONTEXT, parent.spanContext()));
    if (fail) span.setStatus({ code: 2, message: 'boom' });
    span.end();
  };
  const callFizz = gateway.tracer.startSpan('GET service://fizz', { kind: 2 }, underRoot);
  const callBuzz = gateway.tracer.startSpan('GET service://buzz', { kind: 2 }, underRoot);
  server(fizz, 'GET /fizz/:n', callFizz);
  server(buzz, 'GET /buzz/:n', callBuzz);
  callFizz.end();
  callBuzz.end();
  root.end();
  for (const t of [gateway, fizz, buzz]) await t.provider.shutdown();
  return root.spanContext().traceId;
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${dashboard.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

interface TraceAnswer {
  summary: { traceId: string; root: string; services: string[]; requestId: string; error: boolean; spans: number };
  spans: { spanId: string; parentSpanId?: string; service: string; name: string; status: { code: number } }[];
}

function expectOneTreeOfThreeServices(answer: TraceAnswer) {
  expect(answer.summary).toMatchObject({ root: 'GET /fizzbuzz/:n', spans: 5 });
  expect(answer.summary.services.sort()).toEqual(['buzz', 'fizz', 'gateway']);
  const byName = new Map(answer.spans.map((s) => [s.name, s]));
  const id = (name: string) => byName.get(name)?.spanId;
  expect(byName.get('GET /fizzbuzz/:n')?.parentSpanId).toBeUndefined();
  expect(byName.get('GET service://fizz')?.parentSpanId).toBe(id('GET /fizzbuzz/:n'));
  expect(byName.get('GET service://buzz')?.parentSpanId).toBe(id('GET /fizzbuzz/:n'));
  expect(byName.get('GET /fizz/:n')).toMatchObject({ service: 'fizz', parentSpanId: id('GET service://fizz') });
  expect(byName.get('GET /buzz/:n')).toMatchObject({ service: 'buzz', parentSpanId: id('GET service://buzz') });
}

describe('the dashboard receives OTLP/HTTP traces', () => {
  it('decodes protobuf from the official exporter into one trace across three services, found by request id', async () => {
    const url = `${dashboard.url}/v1/traces`;
    const traceId = await fizzbuzz(() => new ProtoExporter({ url }), 'proto-1');
    const answer = await get<TraceAnswer>('/api/traces/proto-1');
    expect(answer.summary.traceId).toBe(traceId);
    expect(answer.summary.error).toBe(false);
    expectOneTreeOfThreeServices(answer);
    // By trace id too, whole or its first characters.
    expect((await get<TraceAnswer>(`/api/traces/${traceId}`)).summary.requestId).toBe('proto-1');
    const list = await get<{ traces: { traceId: string }[] }>(`/api/traces?q=${traceId.slice(0, 8)}`);
    expect(list.traces.map((t) => t.traceId)).toEqual([traceId]);
  });

  it('decodes OTLP/JSON (http/json) the same way, and marks a trace with a failed span as an error', async () => {
    const url = `${dashboard.url}/v1/traces`;
    const traceId = await fizzbuzz(() => new JsonExporter({ url }), 'json-1', true);
    const answer = await get<TraceAnswer>('/api/traces/json-1');
    expect(answer.summary).toMatchObject({ traceId, error: true });
    expectOneTreeOfThreeServices(answer);
    const all = await get<{ traces: { traceId: string; error: boolean }[] }>('/api/traces');
    expect(all.traces[0]).toMatchObject({ traceId, error: true }); // newest first
  });

  it('finds a trace by a request id only its log lines carry', async () => {
    const traceId = await fizzbuzz(() => new ProtoExporter({ url: `${dashboard.url}/v1/traces` }), 'span-id-only');
    const json = { level: 30, time: Date.now(), msg: 'request completed', requestId: 'from-logs-7', trace_id: traceId };
    session.emit('log', { service: 'gateway', line: JSON.stringify(json), json } satisfies DevLogLine);
    const answer = await get<TraceAnswer & { logs: { msg: string }[] }>('/api/traces/from-logs-7');
    expect(answer.summary.traceId).toBe(traceId);
    expect(answer.logs.map((l) => l.msg)).toContain('request completed');
  });

  it('answers 400 to a body that is not an OTLP export, and 404 to an unknown trace', async () => {
    const bad = await fetch(`${dashboard.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0xff, 0xff, 0xff, 0xff]),
    });
    expect(bad.status).toBe(400);
    expect((await fetch(`${dashboard.url}/api/traces/nothing-here`)).status).toBe(404);
  });

  it('takes changes only from its own page: a loopback Host and the x-smart-dev header', async () => {
    const restart = (headers: Record<string, string>) =>
      fetch(`${dashboard.url}/api/services/none/restart`, { method: 'POST', headers });
    // A cross-site form can POST, but cannot add a header.
    expect((await restart({})).status).toBe(403);
    expect((await restart({ 'x-smart-dev': '1' })).status).toBe(404); // past the guard: no such service
    // A rebinding DNS name pointed at 127.0.0.1 reads nothing.
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve) => {
      const req = request(`${dashboard.url}/api/traces`, { headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.end();
    });
    expect(status).toBe(403);
  });

  it('serves its page and bundled assets from the package, nothing from elsewhere', async () => {
    const page = await (await fetch(dashboard.url)).text();
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.sort()).toEqual(['/assets/app.css', '/assets/app.js', '/assets/uPlot.min.css']);
    for (const asset of assets) expect((await fetch(`${dashboard.url}${asset}`)).status).toBe(200);
    expect(await (await fetch(`${dashboard.url}/assets/app.js`)).text()).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });
});
