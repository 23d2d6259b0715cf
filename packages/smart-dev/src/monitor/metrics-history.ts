import { parsePrometheusText } from './prometheus-text.ts';

/** Cumulative counts of one series (a service's requests, or its calls to one upstream) on one instance. */
interface Counts {
  count: number;
  errors: number;
  /** Upper bound (seconds) to cumulative count, as the histogram has it. */
  buckets: Map<number, number>;
}

/** One instance's counts at one scrape: `''` is the service's own requests, other keys its upstreams. */
export interface InstanceCounts {
  readonly service: string;
  readonly series: ReadonlyMap<string, Counts>;
}

/** What a window of time shows for one series. */
export interface RateStats {
  readonly rps: number;
  readonly errorPct: number;
  /** Seconds; undefined with no requests in the window. */
  readonly p50: number | undefined;
  readonly p99: number | undefined;
}

/** One point of a chart: a series' stats over the window ending at `t`. */
export interface Point extends RateStats {
  readonly t: number;
}

// Requests the monitor itself and the probes make: not the service's traffic.
const IGNORED_ROUTES = new Set(['/metrics', '/health/live', '/health/ready']);
const FAMILIES = new Set([
  'http_request_duration_seconds_count',
  'http_request_duration_seconds_bucket',
  'client_call_duration_seconds_count',
  'client_call_duration_seconds_bucket',
]);

function countsOf(map: Map<string, Counts>, key: string): Counts {
  let c = map.get(key);
  if (!c) {
    c = { count: 0, errors: 0, buckets: new Map() };
    map.set(key, c);
  }
  return c;
}

/**
 * An instance's `/metrics` as the monitor counts it: its requests (by
 * `http_request_duration_seconds`, 5xx as errors, probes and scrapes left
 * out) and its calls per upstream (by `client_call_duration_seconds`, any
 * outcome but `ok` as an error).
 *
 * @example
 * countsFromMetrics('fibfrontend', await (await fetch(`${url}/metrics`)).text());
 */
export function countsFromMetrics(service: string, text: string): InstanceCounts {
  const series = new Map<string, Counts>();
  for (const s of parsePrometheusText(text, (name) => FAMILIES.has(name))) {
    if (s.name.startsWith('http_')) {
      if (IGNORED_ROUTES.has(s.labels.route ?? '')) continue;
      const c = countsOf(series, '');
      if (s.name.endsWith('_count')) {
        c.count += s.value;
        if (Number(s.labels.status) >= 500) c.errors += s.value;
      } else addBucket(c, s.labels.le, s.value);
    } else {
      const c = countsOf(series, s.labels.target ?? '?');
      if (s.name.endsWith('_count')) {
        c.count += s.value;
        if (s.labels.outcome !== 'ok') c.errors += s.value;
      } else addBucket(c, s.labels.le, s.value);
    }
  }
  return { service, series };
}

function addBucket(c: Counts, le: string | undefined, value: number): void {
  const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
  c.buckets.set(bound, (c.buckets.get(bound) ?? 0) + value);
}

/** Prometheus's histogram_quantile: linear within the bucket the rank falls in. */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? buckets.get(bounds.at(-1) as number) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lower;
      return lower + (bound - lower) * ((rank - below) / Math.max(count - below, 1e-9));
    }
    lower = bound;
    below = count;
  }
  return lower;
}

/** Counts since an earlier scrape of the same instance; a restarted instance (counts went down) counts from zero. */
function delta(now: Counts, then: Counts | undefined): Counts {
  if (!then || now.count < then.count) return now;
  const buckets = new Map<number, number>();
  for (const [le, v] of now.buckets) buckets.set(le, v - (then.buckets.get(le) ?? 0));
  return { count: now.count - then.count, errors: now.errors - then.errors, buckets };
}

interface Scrape {
  readonly t: number;
  readonly instances: ReadonlyMap<string, InstanceCounts>;
}

/** A series' name: the service, and for an upstream `service → target`. */
export const seriesName = (service: string, upstream: string) => (upstream ? `${service} → ${upstream}` : service);

/**
 * The scrapes of the last minutes and, per service and per upstream, one
 * chart point per scrape: requests/s, % errors, p50 and p99 over the
 * `windowMs` before it.
 *
 * @example
 * const history = new MetricsHistory({ windowMs: 10_000 });
 * history.add(Date.now(), new Map([[url, countsFromMetrics('pricing', text)]]));
 * history.latest(); // Map { 'pricing' => { rps: 12, errorPct: 0, p50: 0.002, p99: 0.01 } }
 */
export class MetricsHistory {
  readonly #windowMs: number;
  readonly #keepMs: number;
  readonly #scrapes: Scrape[] = [];
  readonly #points = new Map<string, Point[]>();
  readonly #upstreams = new Map<string, Set<string>>();

  constructor(options: { windowMs?: number; keepMs?: number } = {}) {
    this.#windowMs = options.windowMs ?? 10_000;
    this.#keepMs = options.keepMs ?? 5 * 60_000;
  }

  add(t: number, instances: ReadonlyMap<string, InstanceCounts>): void {
    this.#scrapes.push({ t, instances });
    while ((this.#scrapes[0]?.t ?? t) < t - this.#windowMs - 2_000) this.#scrapes.shift();
    const start = this.#scrapes[0] as Scrape;
    const seconds = Math.max((t - start.t) / 1000, 1e-3);
    const totals = new Map<string, Counts>();
    for (const [key, now] of instances) {
      const upstreams = this.#upstreams.get(now.service) ?? new Set();
      this.#upstreams.set(now.service, upstreams);
      for (const [upstream, counts] of now.series) {
        if (upstream) upstreams.add(upstream);
        const d =
          start === this.#scrapes.at(-1) ? undefined : delta(counts, start.instances.get(key)?.series.get(upstream));
        const sum = totals.get(seriesName(now.service, upstream)) ?? { count: 0, errors: 0, buckets: new Map() };
        if (d) {
          sum.count += d.count;
          sum.errors += d.errors;
          for (const [le, v] of d.buckets) sum.buckets.set(le, (sum.buckets.get(le) ?? 0) + v);
        }
        totals.set(seriesName(now.service, upstream), sum);
      }
      if (!now.series.has(''))
        totals.set(now.service, totals.get(now.service) ?? { count: 0, errors: 0, buckets: new Map() });
    }
    for (const [name, sum] of totals) {
      const points = this.#points.get(name) ?? [];
      this.#points.set(name, points);
      points.push({
        t,
        rps: sum.count / seconds,
        errorPct: sum.count > 0 ? (100 * sum.errors) / sum.count : 0,
        p50: quantile(0.5, sum.buckets),
        p99: quantile(0.99, sum.buckets),
      });
      while ((points[0]?.t ?? t) < t - this.#keepMs) points.shift();
    }
  }

  /** Every service, with its upstreams' names. */
  services(): Map<string, string[]> {
    return new Map([...this.#upstreams].map(([s, u]) => [s, [...u].sort()]));
  }

  /** The chart points of a series (`seriesName(service, upstream)`). */
  points(name: string): readonly Point[] {
    return this.#points.get(name) ?? [];
  }

  /** The newest point of every series. */
  latest(): Map<string, Point> {
    const out = new Map<string, Point>();
    for (const [name, points] of this.#points) {
      const last = points.at(-1);
      if (last) out.set(name, last);
    }
    return out;
  }
}
