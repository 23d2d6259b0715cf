/** A circuit's state: calls flow (`closed`), fail fast (`open`), or a few probe calls test the target (`half-open`). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** The settings of one target's circuit breaker. */
export interface CircuitBreakerSettings {
  /** The failure rate, in percent, at or above which the circuit opens. Default 50 (Resilience4j's). */
  readonly failureRateThreshold?: number;
  /**
   * The calls the failure rate is computed over: the last `size` calls
   * (default, 100 like Resilience4j's COUNT_BASED window), or those of the
   * last `seconds` seconds (Resilience4j's TIME_BASED).
   */
  readonly slidingWindow?:
    | { readonly type: 'count'; readonly size: number }
    | { readonly type: 'time'; readonly seconds: number };
  /** Calls the window must hold before a rate is judged. Default 20 (Hystrix's requestVolumeThreshold; Resilience4j's is 100). */
  readonly minimumNumberOfCalls?: number;
  /** How long an open circuit fails fast before it lets probes through. Default 5 s (Hystrix's sleepWindow; Resilience4j's is 60 s). */
  readonly waitDurationInOpenStateMs?: number;
  /** Probe calls a half-open circuit lets through; their failure rate closes or reopens it. Default 5 (Resilience4j's is 10). */
  readonly permittedNumberOfCallsInHalfOpenState?: number;
}

/** `createClient({ circuitBreaker })`: the settings for every target, and per target (by service name) overrides. */
export interface CircuitBreakerOptions extends CircuitBreakerSettings {
  readonly targets?: Readonly<Record<string, CircuitBreakerSettings>>;
}

/** The defaults, and where each comes from (see the README's "Circuit breaker"). */
export const CIRCUIT_BREAKER_DEFAULTS = {
  failureRateThreshold: 50,
  slidingWindow: { type: 'count', size: 100 },
  minimumNumberOfCalls: 20,
  waitDurationInOpenStateMs: 5_000,
  permittedNumberOfCallsInHalfOpenState: 5,
} as const satisfies Required<CircuitBreakerSettings>;

/** Outcomes over the last N calls: a ring of booleans. */
class CountWindow {
  readonly #ring: Uint8Array;
  #next = 0;
  #calls = 0;
  #failures = 0;

  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  add(failed: boolean): void {
    const size = this.#ring.length;
    if (this.#calls === size) this.#failures -= this.#ring[this.#next] as number;
    else this.#calls++;
    this.#ring[this.#next] = failed ? 1 : 0;
    if (failed) this.#failures++;
    this.#next = (this.#next + 1) % size;
  }

  totals(): [calls: number, failures: number] {
    return [this.#calls, this.#failures];
  }
}

/** Outcomes of the last N seconds: one bucket per second. */
class TimeWindow {
  readonly #seconds: number;
  // [second, calls, failures]
  readonly #buckets: [number, number, number][] = [];

  constructor(seconds: number) {
    this.#seconds = seconds;
  }

  #trim(second: number): void {
    while (this.#buckets.length > 0 && (this.#buckets[0] as [number, number, number])[0] <= second - this.#seconds)
      this.#buckets.shift();
  }

  add(failed: boolean): void {
    const second = Math.floor(Date.now() / 1000);
    this.#trim(second);
    let last = this.#buckets.at(-1);
    if (!last || last[0] !== second) {
      last = [second, 0, 0];
      this.#buckets.push(last);
    }
    last[1]++;
    if (failed) last[2]++;
  }

  totals(): [calls: number, failures: number] {
    this.#trim(Math.floor(Date.now() / 1000));
    let calls = 0;
    let failures = 0;
    for (const [, c, f] of this.#buckets) {
      calls += c;
      failures += f;
    }
    return [calls, failures];
  }
}

/**
 * One target's circuit breaker, after Resilience4j's CircuitBreaker (its
 * states, settings and their names): closed, it counts call outcomes over a
 * sliding window and opens when, with at least `minimumNumberOfCalls` in the
 * window, the failure rate reaches `failureRateThreshold`; open, it refuses
 * every call for `waitDurationInOpenStateMs`; then half-open, it lets
 * `permittedNumberOfCallsInHalfOpenState` probe calls through and, once they
 * have all answered, closes (a fresh window) or opens again by their failure
 * rate. Refused calls are not counted.
 *
 * Written here rather than taken from cockatiel or opossum: both wrap a
 * function (`policy.execute(fn)`), cost a promise per call even when closed,
 * and let one probe through when half-open (cockatiel) or none at a chosen
 * count (opossum's rolling buckets are time-only); the layer needs a
 * synchronous yes/no per attempt, N probes, and the time left open for a
 * `Retry-After`.
 *
 * Each permit carries the circuit's generation: an answer to a call let
 * through before the last transition is not counted in the new state.
 *
 * @example
 * const breaker = new CircuitBreaker({ minimumNumberOfCalls: 10 }, (from, to) => log(from, to));
 * const permit = breaker.tryAcquire();
 * if (permit < 0) throw circuitOpen('users', breaker.state, breaker.retryAfterMs());
 * breaker.record(permit, failed);
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #minimum: number;
  readonly #waitMs: number;
  readonly #permitted: number;
  readonly #newWindow: () => CountWindow | TimeWindow;
  readonly #onTransition: ((from: CircuitState, to: CircuitState) => void) | undefined;
  #state: CircuitState = 'closed';
  #generation = 0;
  #window: CountWindow | TimeWindow;
  #openUntil = 0;
  // Half-open: probes let through, answered, and failed.
  #probes = 0;
  #answered = 0;
  #probeFailures = 0;

  constructor(settings: CircuitBreakerSettings = {}, onTransition?: (from: CircuitState, to: CircuitState) => void) {
    const s = { ...CIRCUIT_BREAKER_DEFAULTS, ...settings };
    this.#threshold = s.failureRateThreshold;
    this.#minimum = s.minimumNumberOfCalls;
    this.#waitMs = s.waitDurationInOpenStateMs;
    this.#permitted = s.permittedNumberOfCallsInHalfOpenState;
    const window = s.slidingWindow;
    this.#newWindow = () => (window.type === 'time' ? new TimeWindow(window.seconds) : new CountWindow(window.size));
    this.#window = this.#newWindow();
    this.#onTransition = onTransition;
  }

  /** The state now (an open circuit whose wait is over reads `half-open`). */
  get state(): CircuitState {
    if (this.#state === 'open' && Date.now() >= this.#openUntil) this.#to('half-open');
    return this.#state;
  }

  /** True while the circuit refuses every call (open, its wait not over). */
  refusing(): boolean {
    return this.state === 'open';
  }

  /** A permit (the generation, >= 0) for one call, or -1: refused, fail fast. */
  tryAcquire(): number {
    const state = this.state;
    if (state === 'closed') return this.#generation;
    if (state === 'open' || this.#probes >= this.#permitted) return -1;
    this.#probes++;
    return this.#generation;
  }

  /** The call given `permit` answered: `failed` or not. */
  record(permit: number, failed: boolean): void {
    if (permit !== this.#generation) return;
    if (this.#state === 'closed') {
      this.#window.add(failed);
      // Only a failure can open the circuit: a success needs no totals.
      if (!failed) return;
      const [calls, failures] = this.#window.totals();
      if (calls >= this.#minimum && (failures / calls) * 100 >= this.#threshold) this.#open();
      return;
    }
    if (this.#state !== 'half-open') return;
    this.#answered++;
    if (failed) this.#probeFailures++;
    if (this.#answered < this.#permitted) return;
    if ((this.#probeFailures / this.#answered) * 100 >= this.#threshold) this.#open();
    else this.#to('closed');
  }

  /** The call given `permit` ended without a verdict (aborted, refused further down): its probe slot is free again. */
  release(permit: number): void {
    if (permit === this.#generation && this.#state === 'half-open') this.#probes--;
  }

  /** How long until the circuit lets a call through (0 when it does now). */
  retryAfterMs(): number {
    if (this.#state === 'open') return Math.max(0, this.#openUntil - Date.now());
    // Half-open with every probe out: about one wait, a conservative hint.
    return this.#state === 'half-open' ? this.#waitMs : 0;
  }

  #open(): void {
    this.#openUntil = Date.now() + this.#waitMs;
    this.#to('open');
  }

  #to(state: CircuitState): void {
    const from = this.#state;
    this.#state = state;
    this.#generation++;
    this.#probes = 0;
    this.#answered = 0;
    this.#probeFailures = 0;
    if (state === 'closed') this.#window = this.#newWindow();
    this.#onTransition?.(from, state);
  }
}
