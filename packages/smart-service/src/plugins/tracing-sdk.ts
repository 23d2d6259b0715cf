import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { pathOf, routeOf } from './request-context.ts';
import { kSpan, spanOf, type Traced } from './tracing.ts';
import { useRequestContextManager } from './tracing-context.ts';
import { batchProcessor, createExporter, type SpanCounts } from './tracing-export.ts';
import { BufferedIdGenerator } from './tracing-ids.ts';
import { LiveSampler } from './tracing-sampler.ts';
import { exporterOf, parseKeyValues, type TracingConfig } from './tracing-settings.ts';

// The OpenTelemetry SDK side of the tracing plugin (tracing.ts), imported
// only when tracing is on, so a service without tracing never loads the SDK.

function withTimeout(work: Promise<void>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([work.then(() => 'done' as const), timeout]).finally(() => clearTimeout(timer));
}

function spanCounts(app: FastifyInstance): SpanCounts {
  if (!app.hasDecorator('metrics')) return { exported() {}, dropped() {} };
  const registers = [app.metrics];
  const exported = new Counter({
    name: 'tracing_spans_exported_total',
    help: 'Spans handed to the trace exporter successfully.',
    registers,
  });
  const dropped = new Counter<'reason'>({
    name: 'tracing_spans_dropped_total',
    help: 'Spans lost: queue_full (the exporter is slower than spans are made) or export_failed (down, refused, timed out).',
    labelNames: ['reason'],
    registers,
  });
  dropped.inc({ reason: 'queue_full' }, 0);
  dropped.inc({ reason: 'export_failed' }, 0);
  return { exported: (count) => exported.inc(count), dropped: (count, reason) => dropped.inc({ reason }, count) };
}

function providerFor(
  app: FastifyInstance,
  config: TracingConfig,
  exporter: SpanExporter,
  counts: SpanCounts,
): BasicTracerProvider {
  const { name, version, instanceId } = app.serviceInfo;
  const own = parseKeyValues(config.resourceAttributes);
  // What every span of this service shares (service, realm, instance) is
  // said once, on the resource, which the exporter writes once per batch.
  const resource = resourceFromAttributes({
    'service.version': version,
    'service.instance.id': instanceId,
    'deployment.environment.name': app.realm,
    'smart.realm': app.realm,
    ...own,
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the SDK's rule).
    'service.name': config.serviceName ?? own['service.name'] ?? name,
  });
  return new BasicTracerProvider({
    resource,
    idGenerator: new BufferedIdGenerator(),
    // Reads the live config: a sampler or ratio set in Atlas applies to the next request.
    sampler: new LiveSampler(() => app.config.tracing),
    spanProcessors: [batchProcessor(exporter, config, counts)],
  });
}

/** Starts each request's span where Fastify makes the request's logger, and puts its ids into that logger. */
function startSpans(app: FastifyInstance, tracer: Tracer): void {
  const propagator = new W3CTraceContextPropagator();
  // Fastify makes a child logger per request anyway: the span's ids go into
  // its bindings, written as hex once, never per line, with no second child.
  app.setChildLoggerFactory(function childLogger(logger, bindings, options, raw) {
    const req = raw as Traced;
    // Most requests inside a system carry a traceparent; an edge request has none to parse.
    const parent =
      req.headers.traceparent === undefined
        ? ROOT_CONTEXT
        : propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const method = req.method ?? 'GET';
    // The attributes are set after the start, not passed to it: our samplers
    // read none, and the SDK copies and checks attributes given at the start
    // twice (~0.2 us a span).
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttribute('http.request.method', method);
      span.setAttribute('url.path', pathOf(req.url ?? '/'));
      span.setAttribute('smart.request_id', String(bindings.requestId ?? ''));
    }
    req[kSpan] = span;
    const ids = span.spanContext();
    bindings.trace_id = ids.traceId;
    bindings.span_id = ids.spanId;
    return logger.child(bindings, options);
  });
}

/**
 * Turns tracing on for `app` (the plugin in tracing.ts calls it once an
 * exporter is configured): a provider with the service's resource, the
 * live sampler and the bounded batch processor; a span per request, active
 * for the rest of the request and ended by the request lifecycle's observer
 * (no hook of its own on the request path); the provider flushed on close.
 *
 * @example
 * if (exporterOf(app.config.tracing) !== 'none') await startTracing(app, app.config.tracing);
 */
export async function startTracing(app: FastifyInstance, config: TracingConfig): Promise<void> {
  const exporter = await createExporter(exporterOf(config) as 'otlp' | 'zipkin' | 'console', config);
  // With our context manager the request's span is active through the
  // request's own async context: no second AsyncLocalStorage hop per request.
  const shared = useRequestContextManager();
  const provider = providerFor(app, config, exporter, spanCounts(app));
  const tracer = provider.getTracer('smart-service', app.serviceInfo.version);
  // The first tracing app of the process also serves `trace.getTracer()` (the usual OTel idiom).
  const global = trace.setGlobalTracerProvider(provider);
  app.decorate('tracer', tracer);
  app.decorate('tracingEnabled', true);
  startSpans(app, tracer);

  if (!shared) {
    // A context manager of the user's own SDK: enter the span through it.
    app.lifecycle.around = (request, next) => {
      const span = spanOf(request);
      if (span) context.with(trace.setSpan(ROOT_CONTEXT, span), next);
      else next();
    };
  }
  app.lifecycle.observers.push((request, status) => {
    const span = spanOf(request);
    if (!span) return;
    if (span.isRecording()) {
      const route = routeOf(request);
      if (route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', status);
      if (status === 499) span.setAttribute('smart.aborted', true);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
  // Runs only for a request that failed.
  app.addHook('onError', (request, _reply, error, done) => {
    const span = spanOf(request);
    // The code (or class), never the message: messages may quote input.
    if (span?.isRecording()) span.setAttribute('error.type', (error as { code?: string }).code ?? error.name);
    done();
  });

  app.addHook('onClose', async () => {
    const ended = await withTimeout(provider.shutdown(), app.config.tracing.shutdownTimeoutMs);
    if (ended === 'timeout')
      app.log.warn({ timeoutMs: app.config.tracing.shutdownTimeoutMs }, 'spans still queued were not exported');
    if (global) trace.disable();
  });
}
