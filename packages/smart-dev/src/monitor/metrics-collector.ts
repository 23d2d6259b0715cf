import { countsFromMetrics, type InstanceCounts, MetricsHistory } from './metrics-history.ts';

/** An instance to scrape: its service and base URL. */
export interface ScrapeTarget {
  readonly service: string;
  readonly url: string;
}

/**
 * Scrapes every instance's `/metrics` each `intervalMs` (in parallel, each
 * bounded by the interval) into a {@link MetricsHistory}. An instance that
 * does not answer is left out of that round.
 *
 * @example
 * const collector = new MetricsCollector(async () => [{ service: 'pricing', url }]);
 * collector.start();
 * collector.history.latest();
 */
export class MetricsCollector {
  readonly history: MetricsHistory;
  readonly #targets: () => Promise<readonly ScrapeTarget[]> | readonly ScrapeTarget[];
  readonly #intervalMs: number;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(
    targets: () => Promise<readonly ScrapeTarget[]> | readonly ScrapeTarget[],
    options: { intervalMs?: number; windowMs?: number } = {},
  ) {
    this.#targets = targets;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.history = new MetricsHistory({ windowMs: options.windowMs ?? 10_000 });
  }

  /** Called after each round. */
  onRound(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const tick = async () => {
      await this.round().catch(() => {});
      if (this.#running) this.#timer = setTimeout(tick, this.#intervalMs);
    };
    void tick();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  /** One scrape of every target now. */
  async round(): Promise<void> {
    const targets = await this.#targets();
    const t = Date.now();
    const results = await Promise.all(
      targets.map(async (target): Promise<[string, InstanceCounts] | undefined> => {
        try {
          const res = await fetch(`${target.url.replace(/\/$/, '')}/metrics`, {
            signal: AbortSignal.timeout(Math.max(this.#intervalMs - 50, 200)),
          });
          if (!res.ok) return undefined;
          return [target.url, countsFromMetrics(target.service, await res.text())];
        } catch {
          return undefined;
        }
      }),
    );
    this.history.add(t, new Map(results.filter((r) => r !== undefined)));
    for (const listener of this.#listeners) listener();
  }
}
