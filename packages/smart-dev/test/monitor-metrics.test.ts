// What `smart monitor` and the Monitor panel compute from /metrics scrapes.
import { describe, expect, it } from 'vitest';
import { countsFromMetrics, MetricsHistory, quantile, seriesName } from '../src/monitor/metrics-history.ts';
import { parsePrometheusText } from '../src/monitor/prometheus-text.ts';

/** A /metrics answer as smart-service writes it: requests by route and status, calls by target and outcome. */
function scrape(ok: number, failed: number, calls: { ok: number; error: number }) {
  const bucket = (labels: string, n: number) =>
    [0.005, 0.01, 0.1, '+Inf'].map(
      (le, i) => `http_request_duration_seconds_bucket{le="${le}",${labels}} ${i === 0 ? Math.floor(n / 2) : n}`,
    );
  return [
    '# HELP http_request_duration_seconds Time to answer a request.',
    '# TYPE http_request_duration_seconds histogram',
    ...bucket('method="GET",route="/:n",status="200",service="fe"', ok),
    `http_request_duration_seconds_count{method="GET",route="/:n",status="200",service="fe"} ${ok}`,
    ...bucket('method="GET",route="/:n",status="502",service="fe"', failed),
    `http_request_duration_seconds_count{method="GET",route="/:n",status="502",service="fe"} ${failed}`,
    // The scrapes themselves are no traffic.
    'http_request_duration_seconds_count{method="GET",route="/metrics",status="200",service="fe"} 999',
    `client_call_duration_seconds_bucket{le="0.01",target="pricing",outcome="ok"} ${calls.ok}`,
    `client_call_duration_seconds_bucket{le="+Inf",target="pricing",outcome="ok"} ${calls.ok}`,
    `client_call_duration_seconds_count{target="pricing",outcome="ok"} ${calls.ok}`,
    `client_call_duration_seconds_bucket{le="+Inf",target="pricing",outcome="error"} ${calls.error}`,
    `client_call_duration_seconds_count{target="pricing",outcome="error"} ${calls.error}`,
    'process_cpu_seconds_total 1.5',
  ].join('\n');
}

describe('the monitor', () => {
  it('reads Prometheus text: names, labels (escapes too) and values', () => {
    expect(parsePrometheusText('a_total{route="/x \\"y\\"",le="+Inf"} 3\n# c\nb 1.5 1700000000\n')).toEqual([
      { name: 'a_total', labels: { route: '/x "y"', le: '+Inf' }, value: 3 },
      { name: 'b', labels: {}, value: 1.5 },
    ]);
  });

  it('estimates quantiles from histogram buckets as Prometheus does', () => {
    const buckets = new Map([
      [0.01, 50],
      [0.1, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(quantile(0.5, buckets)).toBeCloseTo(0.01);
    expect(quantile(0.99, buckets)).toBeCloseTo(0.1 + 0.9 * 0.9);
    expect(quantile(0.5, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeUndefined();
  });

  it('turns two scrapes into requests/s, % errors, p50 and p99 per service and per upstream', () => {
    const history = new MetricsHistory({ windowMs: 10_000 });
    const t0 = 1_000_000;
    history.add(t0, new Map([['i1', countsFromMetrics('fe', scrape(100, 0, { ok: 100, error: 0 }))]]));
    history.add(t0 + 2_000, new Map([['i1', countsFromMetrics('fe', scrape(118, 2, { ok: 136, error: 4 }))]]));
    const latest = history.latest();
    expect(latest.get('fe')).toMatchObject({ rps: 10, errorPct: 10 });
    expect(latest.get('fe')?.p50).toBeGreaterThan(0);
    expect(latest.get('fe')?.p99).toBeLessThanOrEqual(0.1);
    expect(latest.get(seriesName('fe', 'pricing'))).toMatchObject({ rps: 20, errorPct: 10 });
    expect(history.services()).toEqual(new Map([['fe', ['pricing']]]));
    expect(history.points('fe')).toHaveLength(2);
  });

  it('counts a restarted instance from zero instead of a negative rate', () => {
    const history = new MetricsHistory({ windowMs: 10_000 });
    history.add(0, new Map([['i1', countsFromMetrics('fe', scrape(500, 0, { ok: 0, error: 0 }))]]));
    history.add(1_000, new Map([['i1', countsFromMetrics('fe', scrape(4, 0, { ok: 0, error: 0 }))]]));
    expect(history.latest().get('fe')?.rps).toBe(4);
  });
});
