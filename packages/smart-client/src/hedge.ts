import type { Attempted, RetryBudget } from './retry.ts';

/** Hedged requests ("backup requests", after Dean and Barroso's "The Tail at Scale"). */
export interface HedgeOptions {
  /** Send the backup after this long without an answer. */
  readonly delayMs?: number;
  /** Or after this percentile of the target's observed latency (e.g. 95), once 20 calls were seen. */
  readonly percentile?: number;
}

/** The latencies of the last calls to one target, for percentile-based hedging. */
export class LatencyWindow {
  readonly #samples: number[] = [];
  readonly #size: number;
  #next = 0;
  // Sorting on every call would cost more than the call: recompute every 64 samples.
  #sorted: number[] | undefined;
  #sinceSort = 0;

  constructor(size = 512) {
    this.#size = size;
  }

  add(ms: number): void {
    if (this.#samples.length < this.#size) this.#samples.push(ms);
    else this.#samples[this.#next++ % this.#size] = ms;
    if (++this.#sinceSort >= 64) this.#sorted = undefined;
  }

  /** The p-th percentile, or undefined below 20 samples. */
  percentile(p: number): number | undefined {
    if (this.#samples.length < 20) return undefined;
    if (!this.#sorted) {
      this.#sorted = [...this.#samples].sort((a, b) => a - b);
      this.#sinceSort = 0;
    }
    const sorted = this.#sorted;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }
}

type Attempt = (tried: Set<string>, signal: AbortSignal) => Promise<Attempted & { origin: string }>;

const good = (result: Attempted) => result.response.statusCode < 500;

/**
 * Runs an attempt; if it has not answered after `delayMs` and the budget
 * allows, runs a second one on another instance. The first good answer
 * (below 500) wins and the other is aborted; if neither is good, the first
 * to settle stands.
 */
export async function hedged(
  attempt: Attempt,
  tried: Set<string>,
  delayMs: number,
  budget: RetryBudget,
  onHedge?: () => void,
): Promise<Attempted & { origin: string }> {
  const controllers = [new AbortController(), new AbortController()] as const;
  const first = attempt(tried, controllers[0].signal);
  let timer: NodeJS.Timeout | undefined;
  const fired = new Promise<'hedge'>((resolve) => {
    timer = setTimeout(() => resolve('hedge'), delayMs);
  });
  const early = await Promise.race([
    first.then(
      () => 'done' as const,
      () => 'done' as const,
    ),
    fired,
  ]);
  clearTimeout(timer);
  if (early === 'done' || !budget.tryRetry()) return first;

  onHedge?.();
  const second = attempt(new Set([...tried]), controllers[1].signal);
  const racers = [first, second];
  const outcome = await new Promise<{ index: number; result?: Attempted & { origin: string }; error?: unknown }>(
    (resolve) => {
      let settled = 0;
      let fallback: { index: number; result?: Attempted & { origin: string }; error?: unknown } | undefined;
      racers.forEach((racer, index) => {
        racer.then(
          (result) => {
            settled++;
            if (good(result)) resolve({ index, result });
            else {
              fallback ??= { index, result };
              if (settled === 2) resolve(fallback);
            }
          },
          (error) => {
            settled++;
            fallback ??= { index, error };
            if (settled === 2) resolve(fallback);
          },
        );
      });
    },
  );
  // Abort the loser and drop its body, whatever state it is in.
  const loser = 1 - outcome.index;
  controllers[loser as 0 | 1].abort();
  racers[loser]?.then(
    (r) => r.response.body.dump(),
    () => {},
  );
  if (outcome.error !== undefined) throw outcome.error;
  return outcome.result as Attempted & { origin: string };
}
