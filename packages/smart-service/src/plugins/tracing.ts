import type { IncomingMessage } from 'node:http';
import { type Span, type Tracer, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { exporterOf } from './tracing-settings.ts';

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

/** @internal Where a request's span is kept: on Node's request, which every hook and logger factory sees. */
export const kSpan = Symbol('smart.requestSpan');
/** @internal */
export type Traced = IncomingMessage & { [kSpan]?: Span };

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

/**
 * Tracing with OpenTelemetry, on when an exporter is configured
 * (`tracing.exporter`, or an OTLP endpoint: `OTEL_EXPORTER_OTLP_ENDPOINT`).
 * A server span per request (route, method, status; the service, realm and
 * instance on the resource), active for the rest of the request so the
 * smart client's call spans, query and Redis spans and your own are its
 * children; `trace_id` and `span_id` on the request's log lines. Spans
 * leave through a bounded batch queue: an exporter that is down or slow
 * never holds a request; what is lost is counted in
 * `tracing_spans_dropped_total`. Closing the app flushes within
 * `tracing.shutdownTimeoutMs`. The SDK (tracing-sdk.ts) is loaded only
 * when tracing is on.
 *
 * Registered after the probes and `/metrics`, which are left untraced.
 */
export const tracing = fp(
  async function tracing(app: FastifyInstance) {
    const config = app.config.tracing;
    if (exporterOf(config) === 'none') {
      // Off: no hook, no span, no SDK loaded. The API's tracer still works
      // for your own spans if an SDK of your own is registered.
      app.decorate('tracer', trace.getTracer(app.serviceInfo.name, app.serviceInfo.version));
      app.decorate('tracingEnabled', false);
      return;
    }
    const { startTracing } = await import('./tracing-sdk.ts');
    await startTracing(app, config);
  },
  { name: 'smart-tracing', dependencies: ['smart-request-lifecycle'] },
);
