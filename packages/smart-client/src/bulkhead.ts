/** The settings of one target's bulkhead. */
export interface BulkheadSettings {
  /** Attempts in flight to the target at once. Default 1024 (Envoy's cluster `max_requests`). */
  readonly maxConcurrent?: number;
  /** Attempts that may wait for a slot (each until a slot frees or its deadline); more fail fast. Default 64. */
  readonly maxQueue?: number;
}

/** `createClient({ bulkhead })`: the settings for every target, and per target (by service name) overrides. */
export interface BulkheadOptions extends BulkheadSettings {
  readonly targets?: Readonly<Record<string, BulkheadSettings>>;
}

export const BULKHEAD_DEFAULTS = { maxConcurrent: 1_024, maxQueue: 64 } as const satisfies Required<BulkheadSettings>;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * A bulkhead (the semaphore kind, as Resilience4j's and Envoy's): at most
 * `maxConcurrent` attempts in flight to one target, and `maxQueue` more
 * waiting for a slot in order; past that, attempts are refused at once, so
 * one slow upstream cannot take every socket, timer and byte of memory the
 * caller has.
 *
 * @example
 * const bulkhead = new Bulkhead({ maxConcurrent: 20, maxQueue: 5 });
 * const slot = bulkhead.tryAcquire(signal); // true, a promise of a slot, or false (full)
 * try { ... } finally { bulkhead.release(); }
 */
export class Bulkhead {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(settings: BulkheadSettings = {}) {
    this.maxConcurrent = settings.maxConcurrent ?? BULKHEAD_DEFAULTS.maxConcurrent;
    this.maxQueue = settings.maxQueue ?? BULKHEAD_DEFAULTS.maxQueue;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * A slot now (`true`), a promise of one (queued; it rejects with the
   * signal's reason if the signal aborts first), or `false`: full.
   */
  tryAcquire(signal: AbortSignal | undefined): true | false | Promise<void> {
    if (this.#active < this.maxConcurrent) {
      this.#active++;
      return true;
    }
    if (this.#queue.length >= this.maxQueue || signal?.aborted) return false;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.#queue.indexOf(waiter);
          if (at >= 0) this.#queue.splice(at, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Frees a slot: the first waiter takes it. */
  release(): void {
    const waiter = this.#queue.shift();
    if (!waiter) {
      this.#active--;
      return;
    }
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
  }
}
