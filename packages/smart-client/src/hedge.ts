import type { Attempted, RetryBudget } from './retry.ts';

/** Hedged requests ("backup requests", after Dean and Barroso's "The Tail at Scale"). */
export interface HedgeOptions {
  /** Send the backup after this long without an answer. */
  readonly delayMs?: number;
  /** Or after this percentile of the target's observed latency (e.g. 95), once 20 calls were seen. */
  readonly percentile?: number;
  /**
   * At most this share of the target's hedgeable calls gets a backup (over
   * the last 10 s, plus one a second), after Finagle's `BackupRequestFilter`
   * (`maxExtraLoad`): past it a backup is refused and `onBudgetExhausted`
   * told. Default: the share the percentile names (0.05 at p95, as Finagle
   * pairs them), 0.05 with a fixed delay. When every instance is slow at
   * once (the client or the network stalled), a percentile fires for most
   * calls in flight and backups would only add load; this bounds them.
   */
  readonly maxExtraLoad?: number;
  /**
   * Abort the attempt that lost the race once the other answered. Default
   * false: the loser is left to finish (the call's deadline still ends it)
   * and its answer is read and dropped, as Finagle advises for protocols
   * without a cancel message (`BackupRequestFilter`'s `sendInterrupts`).
   * Over HTTP/1.1 an abort closes the connection, which costs a new one,
   * and the instance usually works on regardless; it would also tell the
   * balancer the instance is free while it is still busy with the slow
   * request, so p2c sent it a third of the calls again (5-7 times its
   * share without hedging, in `pnpm bench:client`). Set it when the
   * instances stop work on a closed connection and that work is worth
   * more than the connection.
   */
  readonly cancelLoser?: boolean;
}

/** The share of calls a hedge option may back up (see `HedgeOptions.maxExtraLoad`). */
export function hedgeShare(options: HedgeOptions): number {
  if (options.maxExtraLoad !== undefined) return options.maxExtraLoad;
  return options.percentile === undefined ? 0.05 : (100 - options.percentile) / 100;
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
type Result = Attempted & { origin: string };
interface Settled {
  readonly index: number;
  readonly result?: Result;
  readonly error?: unknown;
}

const good = (result: Result | undefined) => result !== undefined && result.response.statusCode < 500;
const noop = () => {};

/**
 * Runs an attempt; if it has not answered after `delayMs` and the budget
 * allows, runs a second one on another instance. The first good answer
 * (below 500) wins and the other is aborted; if neither is good, the first
 * to settle stands. An answer before the delay stands whatever it is (the
 * retry layer judges it).
 *
 * One timer and one promise per call, no race helpers: this runs on every
 * hedged call. libuv timers have millisecond resolution and may fire up to
 * a millisecond early, which for delays of a few milliseconds (a p95 is
 * often that) would hedge far more calls than intended; an early timer is
 * re-armed for the rest of the delay.
 */
export function hedged(
  attempt: Attempt,
  tried: Set<string>,
  delayMs: number,
  budget: RetryBudget,
  onHedge?: () => void,
): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    const controllers: AbortController[] = [new AbortController()];
    const attempts: Promise<Result>[] = [];
    const started = performance.now();
    let hedgeSent = false;
    let decided = false;
    let fallback: Settled | undefined;
    let timer: NodeJS.Timeout | undefined;

    const decide = (outcome: Settled) => {
      decided = true;
      clearTimeout(timer);
      // Abort the other attempt and drop its body, whatever state it is in.
      const other = 1 - outcome.index;
      controllers[other]?.abort();
      attempts[other]?.then((r) => r.response.body.dump(), noop);
      if (outcome.result) resolve(outcome.result);
      else reject(outcome.error);
    };
    const settle = (outcome: Settled) => {
      if (decided) return;
      if (!hedgeSent || good(outcome.result)) return decide(outcome);
      if (fallback) return decide(fallback); // neither was good: the first to settle stands
      fallback = outcome;
    };
    const launch = (index: number, from: Set<string>) => {
      const controller = controllers[index] ?? new AbortController();
      controllers[index] = controller;
      const running = attempt(from, controller.signal);
      attempts[index] = running;
      running.then(
        (result) => settle({ index, result }),
        (error: unknown) => settle({ index, error }),
      );
    };
    const fire = () => {
      if (decided) return;
      const left = delayMs - (performance.now() - started);
      if (left > 0) {
        timer = setTimeout(fire, Math.ceil(left));
        return;
      }
      if (!budget.tryRetry()) return;
      hedgeSent = true;
      onHedge?.();
      launch(1, new Set(tried));
    };

    launch(0, tried);
    if (!decided) timer = setTimeout(fire, Math.max(1, Math.ceil(delayMs)));
  });
}
