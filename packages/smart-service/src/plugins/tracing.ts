import type { IncomingMessage } from 'node:http';
import type { Span, Tracer } from '@opentelemetry/api';
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

/**
 * @internal @opentelemetry/api, required when first needed (a default start
 * loads none of it). Node resolves `import` and `require` of it to the same
 * CommonJS build: the SDK, when tracing is on, registers with this copy.
 */
export function openTelemetryApi(): typeof import('@opentelemetry/api') {
  otelApi ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)(
    '@opentelemetry/api',
  ) as typeof import('@opentelemetry/api');
  return otelApi;
}
let otelApi: typeof import('@opentelemetry/api') | undefined;
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
      // The API (44 files) is required at the first read of app.tracer, not at start.
      let tracer: Tracer | undefined;
      app.decorate('tracer', {
        getter: () => {
          tracer ??= openTelemetryApi().trace.getTracer(app.serviceInfo.name, app.serviceInfo.version);
          return tracer;
        },
      });
      app.decorate('tracingEnabled', false);
      return;
    }
    const { startTracing } = await import('./tracing-sdk.ts');
    await startTracing(app, config);
  },
  { name: 'smart-tracing', dependencies: ['smart-request-lifecycle'] },
);
