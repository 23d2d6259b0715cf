import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metric, Registry } from 'prom-client';
import { routeOf } from './request-context.ts';
import { RequestHistogram } from './request-histogram.ts';
import { spanOf } from './tracing.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's Prometheus registry: add your own metrics to it. */
    readonly metrics: Registry;
  }
}

// Seconds; from a fast cache hit to a request about to time out.
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// prom-client (~35 files, and Node's zlib for its Pushgateway) with its
// default collectors is ~10 ms of a cold start: loaded when the registry is
// first needed (below), not with smart-service.
const require = createRequire(import.meta.url);
/** @internal prom-client, required at its first use (the client metrics use it too). */
export const promClient = () => require('prom-client') as typeof import('prom-client');

// prom-client's Registry.OPENMETRICS_CONTENT_TYPE.
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * The registry's metrics in the OpenMetrics text format, exemplars
 * included. prom-client fixes a registry's format when it is made, and its
 * OpenMetrics rendering renames counters in place (it drops `_total` from
 * the metric's name): each scrape renders through a registry of its own
 * holding stand-ins, so the service's registry and its metrics stay as
 * they are for the Prometheus format.
 */
async function openMetrics(registry: Registry, service: string): Promise<string> {
  const view = new (promClient().Registry)<typeof OPENMETRICS>();
  view.setContentType(OPENMETRICS);
  view.setDefaultLabels({ service });
  for (const metric of registry.getMetricsAsArray() as unknown as (Metric & Record<string, unknown>)[]) {
    const name = metric.type === 'counter' ? String(metric.name).replace(/_total$/, '') : String(metric.name);
    const read = (metric.getForPromString ?? metric.get) as () => Promise<{ name: string }>;
    view.registerMetric({
      name,
      help: metric.help,
      type: metric.type,
      getForPromString: async () => ({ ...(await read.call(metric)), name }),
    } as unknown as Metric);
  }
  return view.metrics();
}

/**
 * The service's registry: prom-client's default process and event-loop
 * collectors, the in-flight and shedding gauges, and `duration`.
 */
function serviceRegistry(app: FastifyInstance, service: string, duration: RequestHistogram): Registry {
  const { Counter, collectDefaultMetrics, Gauge, Registry } = promClient();
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests being handled now.',
    registers: [registry],
    collect() {
      this.set(app.lifecycle.inFlight.size);
    },
  });
  // Load shedding's adaptive limit (plugins/protection.ts), read at each scrape; 0 while shedding is off.
  new Gauge({
    name: 'http_concurrency_limit',
    help: 'The adaptive limit of requests in flight; over it requests are shed with 503.',
    registers: [registry],
    collect() {
      const limiter = app.concurrencyLimit;
      if (limiter) this.set(limiter.limit);
    },
  });
  new Counter({
    name: 'http_requests_shed_total',
    help: 'Requests refused with 503 by the adaptive concurrency limit.',
    registers: [registry],
    collect() {
      const limiter = app.concurrencyLimit;
      if (!limiter) return;
      this.reset();
      this.inc(limiter.shed);
    },
  });
  registry.registerMetric(duration as unknown as Metric);
  return registry;
}

// After listening, the registry is made this much later if nothing asked for
// it sooner: its collectors then see the event loop and the GCs well before a
// first scrape, and a start does not wait for them.
const REGISTRY_DELAY_MS = 1_000;

/**
 * `GET /metrics` in Prometheus text: `http_request_duration_seconds`
 * (a histogram by method, route and status, whose `_count` is the request
 * count), `http_requests_in_flight`, load shedding's `http_concurrency_limit`
 * and `http_requests_shed_total`, and process and event-loop metrics.
 * Each app has its own registry, so several apps in a process never clash.
 * The registry (and prom-client) is made at the first use of `app.metrics`,
 * the first scrape, or a second after the service listens, whichever comes
 * first; requests are counted from the start either way.
 */
export const metrics = fp(
  async function metrics(app: FastifyInstance, options: { service: string }) {
    const duration = new RequestHistogram(
      'http_request_duration_seconds',
      'Time to answer a request, by method, route and status.',
      BUCKETS,
    );
    let registry: Registry | undefined;
    const registryOf = (): Registry => {
      registry ??= serviceRegistry(app, options.service, duration);
      return registry;
    };
    app.decorate('metrics', { getter: registryOf });
    let timer: NodeJS.Timeout | undefined;
    app.addHook('onListen', async () => {
      timer = setTimeout(registryOf, REGISTRY_DELAY_MS).unref();
    });
    app.addHook('onClose', async () => clearTimeout(timer));
    app.lifecycle.observers.push((request, status, seconds) => {
      // Unmatched URLs share one label so a scan cannot explode the series count.
      const series = duration.seriesFor(request.method, routeOf(request) ?? 'unmatched', status);
      // Each bucket keeps the trace of its last traced request, shown to OpenMetrics scrapes:
      // an exemplar only for a sampled trace, one that an exporter received.
      const ids = spanOf(request)?.spanContext();
      duration.observe(
        series,
        seconds,
        ids && ids.traceFlags & 1 ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined,
      );
    });

    app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
      // OpenMetrics (with exemplars) for a scraper that asks for it, as Prometheus does with exemplar storage on.
      const scraped = registryOf();
      if (request.headers.accept?.includes('application/openmetrics-text')) {
        reply.type(OPENMETRICS);
        return openMetrics(scraped, options.service);
      }
      reply.type(scraped.contentType);
      return scraped.metrics();
    });
  },
  { name: 'smart-metrics', dependencies: ['smart-request-lifecycle'] },
);
