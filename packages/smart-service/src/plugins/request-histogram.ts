import type { MetricValueWithName } from 'prom-client';

/** One label set of the histogram: counts per bucket (not cumulative; the last is +Inf), sum, count. */
export interface Series {
  readonly labels: { readonly method: string; readonly route: string; readonly status: number };
  readonly counts: Float64Array;
  readonly exemplars: (Exemplar | undefined)[];
  sum: number;
  count: number;
}

interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  /** Seconds since the epoch, as OpenMetrics writes it. */
  timestamp: number;
}

/**
 * The request-duration histogram (`http_request_duration_seconds` by
 * method, route and status), kept here rather than in a prom-client
 * Histogram and read by the registry like any metric (`get()`): the
 * registry renders it, default labels and OpenMetrics exemplars included,
 * in the same text prom-client's Histogram writes (a test compares them).
 * prom-client's `observe` validates and hashes the labels and allocates on
 * every call, even through a child; here a request finds its series once
 * per label set and an observation is a bucket search and three additions.
 * Written by hand for that per-request cost: prom-client has no bulk or
 * pre-bound observation.
 */
export class RequestHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly #bounds: readonly number[];
  readonly #series: Series[] = [];
  // route -> method -> status -> series: route templates and methods are the same few
  // strings (their hashes cached), statuses small integers, so finding a request's
  // series builds no key and hashes no new string.
  readonly #byRoute = new Map<string, Map<string, Map<number, Series>>>();

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  /** The series of a label set, made at its first request. */
  seriesFor(method: string, route: string, status: number): Series {
    let byMethod = this.#byRoute.get(route);
    if (!byMethod) {
      byMethod = new Map();
      this.#byRoute.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (!series) {
      series = {
        labels: { method, route, status },
        counts: new Float64Array(this.#bounds.length + 1),
        exemplars: [],
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
      this.#series.push(series);
    }
    return series;
  }

  /** Records one observation (seconds); with `exemplar`, its bucket keeps it as its latest. */
  observe(series: Series, value: number, exemplar?: Record<string, string>): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    series.counts[i] = (series.counts[i] as number) + 1;
    series.sum += value;
    series.count += 1;
    if (exemplar) series.exemplars[i] = { labelSet: exemplar, value, timestamp: Date.now() / 1000 };
  }

  /** For the registry: one value per bucket (cumulative, with `le`), then `_sum` and `_count`, per series. */
  async get() {
    // Shaped as prom-client's Histogram shapes its values (the series' labels as
    // `sharedLabels`), so the registry writes the same text, label order included.
    const values: (MetricValueWithName<string> & { sharedLabels: Series['labels']; exemplar?: Exemplar })[] = [];
    const bounds = this.#bounds;
    for (const series of this.#series) {
      const sharedLabels = series.labels;
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += series.counts[i] as number;
        const le = i < bounds.length ? (bounds[i] as number) : '+Inf';
        const exemplar = series.exemplars[i];
        values.push({
          labels: { le },
          sharedLabels,
          value: cumulative,
          metricName: `${this.name}_bucket`,
          ...(exemplar ? { exemplar } : {}),
        });
      }
      values.push({ labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Forgets every observation (the registry's `resetMetrics()`). */
  reset(): void {
    this.#series.length = 0;
    this.#byRoute.clear();
  }
}
