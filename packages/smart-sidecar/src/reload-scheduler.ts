/**
 * When the next reload may run: a request waits `debounceMs` (so a burst
 * of new services is one reload), and never sooner than `minIntervalMs`
 * after the previous reload started (a steady trickle of new services costs
 * at most one reload per interval). Requests while one is pending join it.
 * consul-template reloads on every change; Synapse at most every 2 s: this
 * reloads only for a new service or a full backend, and at most once per
 * interval.
 *
 * @example
 * const scheduler = new ReloadScheduler({ debounceMs: 100, minIntervalMs: 1_000 }, () => reload());
 * scheduler.request('new service users');
 */
export class ReloadScheduler {
  readonly #debounceMs: number;
  readonly #minIntervalMs: number;
  readonly #run: (reasons: readonly string[]) => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #reasons: string[] = [];
  #lastStart = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(
    options: { debounceMs: number; minIntervalMs: number },
    run: (reasons: readonly string[]) => Promise<void>,
  ) {
    this.#debounceMs = options.debounceMs;
    this.#minIntervalMs = options.minIntervalMs;
    this.#run = run;
  }

  /** True while a reload is waiting to run. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Asks for a reload, for `reason` (logged with it). */
  request(reason: string): void {
    if (this.#closed) return;
    if (!this.#reasons.includes(reason)) this.#reasons.push(reason);
    if (this.#timer) return;
    const now = Date.now();
    const at = Math.max(now + this.#debounceMs, this.#lastStart + this.#minIntervalMs);
    this.#timer = setTimeout(() => this.#fire(), at - now);
  }

  #fire(): void {
    this.#timer = undefined;
    const reasons = this.#reasons;
    this.#reasons = [];
    this.#lastStart = Date.now();
    // The run reports its own failures; a failed reload is asked for again by the next change.
    void this.#run(reasons);
  }

  /** Drops a pending reload. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
