import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Histogram, type LabelValues, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's Prometheus registry: add your own metrics to it. */
    readonly metrics: Registry;
  }
}

type Labels = 'method' | 'route' | 'status';

// Seconds; from a fast cache hit to a request about to time out.
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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
      registers: [registry],
    });
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
      childFor({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status }).observe(seconds);
    });

    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'smart-metrics', dependencies: ['smart-request-lifecycle'] },
);
