// Bare Fastify with one of three ways to make a server span per request
// (argv[2]): `fastify-otel` (@fastify/otel, the official instrumentation),
// `dc` (a subscriber to Fastify's own diagnostics channel
// `tracing:fastify.request.handler:*`), `hooks` (an onRequest/onResponse pair,
// what smart-service does), or `none`. Every span goes through the SDK's batch
// processor to an exporter that drops it, so the cost measured is the span's.
import diagnostics from 'node:diagnostics_channel';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, ROOT_CONTEXT, type Span, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import Fastify, { type FastifyReply } from 'fastify';
import { reportPort } from './report.ts';

const mode = process.argv[2] ?? 'none';
const drop: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(drop)] });
const manager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(manager);
const tracer = provider.getTracer('bench');

const app = Fastify({ logger: false });

if (mode === 'fastify-otel') {
  const instrumentation = new FastifyOtelInstrumentation();
  instrumentation.setTracerProvider(provider);
  await app.register(instrumentation.plugin());
} else if (mode === 'dc') {
  interface Message {
    reply: FastifyReply;
    route: { url: string; method: string };
    span?: Span;
    async?: boolean;
  }
  const channel = diagnostics.tracingChannel('fastify.request.handler');
  // The handler runs inside the span's context: bind the context manager's own store to the start event.
  const store = (manager as unknown as { _asyncLocalStorage: import('node:async_hooks').AsyncLocalStorage<unknown> })
    ._asyncLocalStorage;
  channel.start.bindStore(store as never, (message) => {
    const m = message as Message;
    m.span = tracer.startSpan(`${m.route.method} ${m.route.url}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.route': m.route.url, 'http.request.method': m.route.method },
    });
    return trace.setSpan(ROOT_CONTEXT, m.span);
  });
  const end = (message: unknown) => {
    const m = message as Message;
    m.span?.setAttribute('http.response.status_code', m.reply.statusCode);
    m.span?.end();
  };
  channel.subscribe({
    start() {},
    end(message) {
      if (!(message as Message).async) end(message);
    },
    asyncStart() {},
    asyncEnd: end,
    error() {},
  });
} else if (mode === 'hooks') {
  const spans = new WeakMap<object, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const span = tracer.startSpan(request.method, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method },
    });
    spans.set(request, span);
    context.with(trace.setSpan(ROOT_CONTEXT, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.updateName(`${request.method} ${request.routeOptions.url}`);
      span.setAttributes({
        'http.route': request.routeOptions.url ?? '',
        'http.response.status_code': reply.statusCode,
      });
      span.end();
    }
    done();
  });
}

app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: 0, host: '127.0.0.1' });
reportPort((app.server.address() as { port: number }).port);
// CPU time used so far (user + system, µs), asked over IPC: per-request CPU is steadier than req/s on a busy machine.
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
});
