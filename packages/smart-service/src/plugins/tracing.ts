import type { IncomingMessage } from 'node:http';
import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { pathOf } from './request-context.ts';
import { batchProcessor, createExporter, type SpanCounts } from './tracing-export.ts';
import { LiveSampler } from './tracing-sampler.ts';
import { exporterOf, parseKeyValues, type TracingConfig } from './tracing-settings.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * This service's OpenTelemetry tracer, for spans of your own (children
     * of the request's span). A no-op when tracing is off.
     */
    readonly tracer: Tracer;
    /** @internal Whether spans are recorded and exported (an exporter is configured). */
    readonly tracingEnabled: boolean;
  }
}

const kSpan = Symbol('smart.requestSpan');
type Traced = IncomingMessage & { [kSpan]?: Span };

/**
 * The span of a request (undefined when tracing is off, or for the probes
 * and `/metrics`, which are not traced).
 *
 * @example
 * const traceId = spanOf(request)?.spanContext().traceId;
 */
export function spanOf(request: FastifyRequest): Span | undefined {
  return (request.raw as Traced)[kSpan];
}

// One context manager per process (AsyncLocalStorage): the API's global, so
// smart-client, which knows only @opentelemetry/api, sees the active span.
// A context manager already registered (an SDK of the user's own) is kept.
let contextManagerReady = false;
function ensureContextManager(): void {
  if (contextManagerReady) return;
  contextManagerReady = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

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

function providerFor(app: FastifyInstance, config: TracingConfig, counts: SpanCounts): BasicTracerProvider {
  const { name, version, instanceId } = app.serviceInfo;
  const own = parseKeyValues(config.resourceAttributes);
  const resource = resourceFromAttributes({
    'service.version': version,
    'service.instance.id': instanceId,
    'deployment.environment.name': app.realm,
    'smart.realm': app.realm,
    ...own,
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the SDK's rule).
    'service.name': config.serviceName ?? own['service.name'] ?? name,
  });
  const exporter = createExporter(exporterOf(config) as 'otlp' | 'zipkin' | 'console', config);
  return new BasicTracerProvider({
    resource,
    // Reads the live config: a sampler or ratio set in Atlas applies to the next request.
    sampler: new LiveSampler(() => app.config.tracing),
    spanProcessors: [batchProcessor(exporter, config, counts)],
  });
}

/**
 * Tracing with OpenTelemetry, on when an exporter is configured
 * (`tracing.exporter`, or an OTLP endpoint: `OTEL_EXPORTER_OTLP_ENDPOINT`).
 * A server span per request (route, method, status; the service, realm and
 * instance on the resource), entered for the rest of the request so the
 * smart client's call spans, query and Redis spans and your own are its
 * children; `trace_id` and `span_id` on the request's log lines (bound into
 * the request's logger, which Fastify makes once per request anyway). Spans
 * leave through a bounded batch queue: an exporter that is down or slow
 * never holds a request; what is lost is counted in
 * `tracing_spans_dropped_total`. Closing the app flushes within
 * `tracing.shutdownTimeoutMs`.
 *
 * Registered after the probes and `/metrics`, which are left untraced.
 */
export const tracing = fp(
  async function tracing(app: FastifyInstance) {
    const config = app.config.tracing;
    if (exporterOf(config) === 'none') {
      // Off: no hook, no span. The API's tracer still works for your own spans
      // if an SDK of your own is registered.
      app.decorate('tracer', trace.getTracer(app.serviceInfo.name, app.serviceInfo.version));
      app.decorate('tracingEnabled', false);
      return;
    }
    ensureContextManager();
    const provider = providerFor(app, config, spanCounts(app));
    const tracer = provider.getTracer('smart-service', app.serviceInfo.version);
    // The first tracing app of the process also serves `trace.getTracer()` (the usual OTel idiom).
    const global = trace.setGlobalTracerProvider(provider);
    app.decorate('tracer', tracer);
    app.decorate('tracingEnabled', true);

    const propagator = new W3CTraceContextPropagator();
    // The request's span starts where Fastify makes the request's logger, so
    // its ids go into that logger's bindings: no second child logger per request.
    app.setChildLoggerFactory(function childLogger(logger, bindings, options, raw) {
      const req = raw as Traced;
      // Most requests inside a system carry a traceparent; an edge request has none to parse.
      const parent =
        req.headers.traceparent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const method = req.method ?? 'GET';
      const span = tracer.startSpan(
        method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': method,
            'url.path': pathOf(req.url ?? '/'),
            'smart.request_id': String(bindings.requestId ?? ''),
          },
        },
        parent,
      );
      req[kSpan] = span;
      const ids = span.spanContext();
      return logger.child({ ...bindings, trace_id: ids.traceId, span_id: ids.spanId }, options);
    });

    // The rest of the request runs with its span active.
    app.lifecycle.around = (request, next) => {
      const span = spanOf(request);
      if (span) context.with(trace.setSpan(ROOT_CONTEXT, span), next);
      else next();
    };
    app.lifecycle.observers.push((request, status) => {
      const span = spanOf(request);
      if (!span) return;
      if (span.isRecording()) {
        const route = request.routeOptions.url;
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
  },
  { name: 'smart-tracing', dependencies: ['smart-request-lifecycle'] },
);
