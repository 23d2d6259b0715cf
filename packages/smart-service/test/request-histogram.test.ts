import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestHistogram } from '../src/plugins/request-histogram.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const observations = [
  { method: 'GET', route: '/users/:id', status: 200, seconds: 0.0004 },
  { method: 'GET', route: '/users/:id', status: 200, seconds: 0.05 },
  { method: 'GET', route: '/users/:id', status: 200, seconds: 3 },
  { method: 'POST', route: '/users', status: 201, seconds: 0.001 },
  { method: 'GET', route: 'unmatched', status: 404, seconds: 0.2 },
];

// The same observations through prom-client's Histogram and through ours, each in a registry of its own.
async function bothScrapes(
  contentType: typeof Registry.PROMETHEUS_CONTENT_TYPE | typeof Registry.OPENMETRICS_CONTENT_TYPE,
) {
  const theirs = new Registry();
  const ours = new Registry();
  for (const registry of [theirs, ours]) {
    registry.setContentType(contentType as never);
    registry.setDefaultLabels({ service: 'svc' });
  }
  const exemplars = contentType === Registry.OPENMETRICS_CONTENT_TYPE;
  const reference = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request.',
    labelNames: ['method', 'route', 'status'],
    buckets: BUCKETS,
    registers: [theirs],
    enableExemplars: exemplars,
  });
  const histogram = new RequestHistogram('http_request_duration_seconds', 'Time to answer a request.', BUCKETS);
  ours.registerMetric(histogram as never);
  for (const { method, route, status, seconds } of observations) {
    const exemplar = exemplars && route === '/users' ? { trace_id: 'abc' } : undefined;
    if (exemplars)
      reference.observe({
        labels: { method, route, status },
        value: seconds,
        exemplarLabels: (exemplar ?? {}) as never,
      });
    else reference.observe({ method, route, status }, seconds);
    histogram.observe(histogram.seriesFor(method, route, status), seconds, exemplar);
  }
  // Exemplar timestamps are the clock at observation: compare without them.
  const untimed = (text: string) => text.replace(/(# \{[^}]*\} [\d.e+-]+) [\d.]+/g, '$1 T');
  return { theirs: untimed(await theirs.metrics()), ours: untimed(await ours.metrics()) };
}

describe('the request-duration histogram', () => {
  it("writes the same Prometheus text as prom-client's Histogram for the same observations", async () => {
    const { theirs, ours } = await bothScrapes(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(ours).toBe(theirs);
    expect(ours).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",service="svc",method="GET",route="/users/:id",status="200"} 3',
    );
  });

  it('writes the same OpenMetrics text, exemplars on their buckets', async () => {
    const { theirs, ours } = await bothScrapes(Registry.OPENMETRICS_CONTENT_TYPE);
    expect(ours).toBe(theirs);
    expect(ours).toMatch(
      /_bucket\{le="0.001",service="svc",method="POST",route="\/users",status="201"\} 1 # \{trace_id="abc"\} 0.001 T/,
    );
  });

  it('forgets its observations on reset', async () => {
    const histogram = new RequestHistogram('d', 'h', BUCKETS);
    histogram.observe(histogram.seriesFor('GET', '/', 200), 0.5);
    histogram.reset();
    expect((await histogram.get()).values).toEqual([]);
  });
});
