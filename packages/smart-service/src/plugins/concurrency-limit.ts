import { performance } from 'node:perf_hooks';

const nodeTiming = performance.nodeTiming;

/** How the adaptive limits behave (`protection.shedding.*`). */
export interface ConcurrencyLimitOptions {
  /** The limit of requests in flight at start. */
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Mean latency up to `latencyTolerance` × the unloaded latency is normal; above it the limits shrink. */
  readonly latencyTolerance: number;
  /** The queue-wait limit never goes below this, and latency this much over the tolerated is still normal (ms). */
  readonly minQueueDelayMs: number;
  /** The queue-wait limit at start, before the unloaded latency is known (ms): bursts up to it are served. */
  readonly maxQueueDelayMs: number;
  /**
   * Once the unloaded latency is known, the queue-wait limit grows back (while
   * latency is normal) to the latency taken as normal, or to this if more (ms):
   * the burst every service absorbs. Above the normal latency, an accepted
   * request's wait would be the tail the limits are there to keep short.
   */
  readonly burstQueueDelayMs: number;
  /** How often the limits are recomputed from the latencies seen since (ms). */
  readonly windowMs: number;
}

/** A window needs this many samples before it moves the limits (one slow request is not a trend). */
const MIN_SAMPLES = 5;
/** Smoothing of each new limit (Gradient2's default): a window moves the limit a fifth of the way. */
const SMOOTHING = 0.2;
/** The gradient's floor: a window can at most halve what it aims at. */
const MIN_GRADIENT = 0.5;
/** How fast the queue-wait limit grows back, a window, while latency is normal (from 2 to 100 ms in ~1 s). */
const QUEUE_REGROWTH = 1.5;
/**
 * How fast the unloaded latency follows the windows' mean latency upwards
 * (a time constant): slowly, so a service that really became slower
 * (a new release, a slower database) is relearnt within about a minute, and
 * a load that grows no faster than that cannot pass for "unloaded".
 */
const RELEARN_MS = 30_000;

/**
 * Adaptive overload limits, in the manner of Netflix's concurrency-limits
 * (Gradient2) and Envoy's adaptive concurrency filter. No well-kept npm
 * package does this (the adaptive limiters found are Netflix's Java, Envoy's
 * C++, Rust's tower-acc, and Go, .NET and Elixir ones; npm's are fixed
 * limits), so it is written here.
 *
 * It learns the unloaded latency (the least mean latency of a window of
 * successful requests, rising only slowly) and compares each window's mean
 * latency with it, times `latencyTolerance`, plus `minQueueDelayMs` of slack:
 * - the limit of requests in flight grows by √limit a window while the
 *   latency is within that and at least half of the limit is used, and
 *   shrinks by their ratio when latency rises (Gradient2's rule);
 * - a Node service has a second queue that limit cannot see: a CPU-bound
 *   handler runs to completion, so requests wait in the event loop (in
 *   socket buffers), never in flight together. Each request's wait there is
 *   estimated (the time the loop spent on the requests before it in the same
 *   loop iteration, plus half of the previous iteration when the loop did not
 *   sleep in between) and added to its latency, and a request that waited over
 *   the queue-wait limit is shed, as Facebook's servers drop requests by
 *   their queueing delay (CoDel). That limit starts at `maxQueueDelayMs`
 *   (bursts are served), shrinks by the same ratio when latency rises, down
 *   to `minQueueDelayMs`, and grows back by half a window while latency is
 *   normal, up to that normal latency (or `burstQueueDelayMs`, if more): a
 *   queue the service has learnt is longer than normal is not let back in.
 * So under overload the accepted requests' mean latency stays near
 * `latencyTolerance` × unloaded, and the excess is answered at once.
 *
 * The hot path, `admit()` and `release()`, is counters, a clock read each and
 * no allocation (one `setImmediate` and an idle-time read per busy loop
 * iteration, not per request).
 *
 * @example
 * const limits = new ConcurrencyLimit({ initialLimit: 100, minLimit: 10, maxLimit: 1000,
 *   latencyTolerance: 1.5, minQueueDelayMs: 2, maxQueueDelayMs: 100, burstQueueDelayMs: 20, windowMs: 100 });
 * const wait = limits.admit(performance.now());
 * if (wait < 0) return shed();
 * // ... when the request finishes:
 * limits.release(elapsedMs + wait, status < 499);
 */
export class ConcurrencyLimit {
  readonly #options: ConcurrencyLimitOptions;
  #limit: number;
  #cap: number;
  #inFlight = 0;
  #minRtt = Number.POSITIVE_INFINITY;
  #queueLimit: number;
  #shed = 0;
  // The window: when it started, its samples' sum and count, the most in flight.
  #windowStart = performance.now();
  #sum = 0;
  #count = 0;
  #peak = 0;
  // The event loop's queue: when its current iteration's requests began to
  // wait, whether one came yet; when the last iteration ended, how long it
  // took, and the loop's idle time then.
  #iterationStart = 0;
  #inIteration = false;
  #lastEnd = 0;
  #lastLength = 0;
  #idleAtEnd = -1;
  readonly #endIteration = () => {
    this.#inIteration = false;
    this.#lastEnd = performance.now();
    this.#lastLength = this.#lastEnd - this.#iterationStart;
    this.#idleAtEnd = nodeTiming.idleTime;
  };

  constructor(options: ConcurrencyLimitOptions) {
    this.#options = options;
    this.#limit = Math.min(options.maxLimit, Math.max(options.minLimit, options.initialLimit));
    this.#cap = Math.floor(this.#limit);
    this.#queueLimit = options.maxQueueDelayMs;
  }

  /** The current limit of requests in flight. */
  get limit(): number {
    return this.#cap;
  }

  /** Requests admitted and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests shed since it started. */
  get shed(): number {
    return this.#shed;
  }

  /** The unloaded latency learnt so far (ms), `Infinity` before the first window. */
  get minRttMs(): number {
    return this.#minRtt;
  }

  /** The longest wait in the event loop's queue with which a request is still admitted (ms). */
  get queueLimitMs(): number {
    return this.#queueLimit;
  }

  /**
   * Admits a request (`now` from `performance.now()`): returns how long it
   * waited in the event loop's queue (ms), or -1 when it is to be shed
   * (the limit is reached or it waited too long).
   */
  admit(now: number): number {
    const wait = this.#queueWait(now);
    if (this.#inFlight >= this.#cap || wait > this.#queueLimit) {
      this.#shed++;
      return -1;
    }
    if (++this.#inFlight > this.#peak) this.#peak = this.#inFlight;
    return wait;
  }

  /**
   * Releases an admitted request that took `latencyMs`, its queue wait
   * included; `sample` false leaves its latency out (a failure, fast or
   * slow, says nothing of how loaded the service is).
   */
  release(latencyMs: number, sample = true): void {
    this.#inFlight--;
    if (!sample) return;
    this.#sum += latencyMs;
    this.#count++;
    const now = performance.now();
    if (now - this.#windowStart >= this.#options.windowMs && this.#count >= MIN_SAMPLES) this.#update(now);
  }

  // How long this request waited in the loop. Requests read in one loop
  // iteration wait for those before them: the later ones, for the time
  // since the first one came. The first one waited ~0 if the loop slept
  // since the last iteration (it woke for it); if the loop never slept, its
  // bytes came while the last iteration ran, on average half-way through
  // it. A check-phase callback (setImmediate) marks each iteration's end;
  // `idleTime` grows only while the loop sleeps.
  #queueWait(now: number): number {
    if (this.#inIteration) return now - this.#iterationStart;
    this.#inIteration = true;
    setImmediate(this.#endIteration);
    const carried = nodeTiming.idleTime === this.#idleAtEnd ? now - this.#lastEnd + this.#lastLength / 2 : 0;
    this.#iterationStart = now - carried;
    return carried;
  }

  #update(now: number): void {
    const { latencyTolerance, minLimit, maxLimit, minQueueDelayMs, maxQueueDelayMs, burstQueueDelayMs } = this.#options;
    const latency = this.#sum / this.#count;
    if (latency < this.#minRtt) this.#minRtt = latency;
    else this.#minRtt += (latency - this.#minRtt) * Math.min(1, (now - this.#windowStart) / RELEARN_MS);
    // A few ms over is jitter (GC, a busy machine), not overload, however fast the service.
    const normal = latencyTolerance * this.#minRtt + minQueueDelayMs;
    const gradient = Math.max(MIN_GRADIENT, Math.min(1, normal / latency));
    // Gradient2: limit × gradient + √limit, smoothed; not grown while less
    // than half of it is used (the service, not the limit, sets the latency then).
    let target = this.#limit * gradient + Math.sqrt(this.#limit);
    if (this.#peak * 2 < this.#cap && target > this.#limit) target = this.#limit;
    this.#limit = Math.min(maxLimit, Math.max(minLimit, this.#limit + (target - this.#limit) * SMOOTHING));
    this.#cap = Math.floor(this.#limit);
    this.#queueLimit =
      gradient < 1
        ? Math.max(minQueueDelayMs, this.#queueLimit * gradient)
        : Math.min(
            maxQueueDelayMs,
            Math.max(normal, burstQueueDelayMs),
            this.#queueLimit * QUEUE_REGROWTH + this.#minRtt,
          );
    this.#windowStart = now;
    this.#sum = 0;
    this.#count = 0;
    this.#peak = this.#inFlight;
  }
}
