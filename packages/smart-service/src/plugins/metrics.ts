import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Histogram, type LabelValues, type Metric, Registry } from 'prom-client';
import { routeOf } from './request-context.ts';
import { spanOf } from './tracing.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's Prometheus registry: add your own metrics to it. */
    readonly metrics: Registry;
  }
}

type Labels = 'method' | 'route' | 'status';

// Seconds; from a fast cache hit to a request about to time out.
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const OPENMETRICS = Registry.OPENMETRICS_CONTENT_TYPE;

// prom-client's histogram records a bucket's exemplar here (`observe` does it only for
// the histogram itself, not for the per-label children we observe through); untyped.
interface WithExemplars {
  updateExemplar(labels: LabelValues<Labels>, value: number, exemplar: Record<string, string>): void;
}

/**
 * The registry's metrics in the OpenMetrics text format, exemplars
 * included. prom-client fixes a registry's format when it is made, and its
 * OpenMetrics rendering renames counters in place (it drops `_total` from
 * the metric's name): each scrape renders through a registry of its own
 * holding stand-ins, so the service's registry and its metrics stay as
 * they are for the Prometheus format.
 */
async function openMetrics(registry: Registry, service: string): Promise<string> {
  const view = new Registry<typeof OPENMETRICS>();
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
 * `GET /metrics` in Prometheus text: `http_request_duration_seconds`
 * (a histogram by method, route and status, whose `_count` is the request
 * count), `http_requests_in_flight`, and process and event-loop metrics.
 * Each app has its own registry, so several apps in a process never clash.
 */
export const metrics = fp(
  async function metrics(app: FastifyInstance, options: { service: string }) {
    const registry = new Registry();
    registry.setDefaultLabels({ service: options.service });
    collectDefaultMetrics({ register: registry });

    new Gauge({
      name: 'http_requests_in_flight',
      help: 'Requests being handled now.',
      registers: [registry],
      collect() {
        this.set(app.lifecycle.inFlight.size);
      },
    });
    const duration = new Histogram<Labels>({
      name: 'http_request_duration_seconds',
      help: 'Time to answer a request, by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      // Each bucket keeps the trace of its last traced request, shown to OpenMetrics scrapes.
      // prom-client refuses exemplars on a Prometheus-format registry when the metric is made,
      // though it renders them only for OpenMetrics anyway: registered by hand, below.
      registers: [],
      enableExemplars: true,
    });
    registry.registerMetric(duration);
    // One child per label set. (prom-client's child still validates and hashes
    // its labels on every observe: a collector of our own is the next step if
    // metrics show up in the bench again.)
    const children = new Map<string, ReturnType<typeof duration.labels>>();
    function childFor(labels: LabelValues<Labels>) {
      const key = `${labels.method} ${labels.status} ${labels.route}`;
      let child = children.get(key);
      if (!child) {
        child = duration.labels(labels);
        children.set(key, child);
      }
      return child;
    }

    app.decorate('metrics', registry);
    app.lifecycle.observers.push((request, status, seconds) => {
      // Unmatched URLs share one label so a scan cannot explode the series count.
      const labels = { method: request.method, route: routeOf(request) ?? 'unmatched', status };
      childFor(labels).observe(seconds);
      // An exemplar only for a sampled trace: one that an exporter received.
      const ids = spanOf(request)?.spanContext();
      if (ids && ids.traceFlags & 1) {
        (duration as unknown as WithExemplars).updateExemplar(labels, seconds, {
          trace_id: ids.traceId,
          span_id: ids.spanId,
        });
      }
    });

    app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
      // OpenMetrics (with exemplars) for a scraper that asks for it, as Prometheus does with exemplar storage on.
      if (request.headers.accept?.includes('application/openmetrics-text')) {
        reply.type(OPENMETRICS);
        return openMetrics(registry, options.service);
      }
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'smart-metrics', dependencies: ['smart-request-lifecycle'] },
);
