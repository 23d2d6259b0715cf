import type { Bulkhead } from './bulkhead.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { LatencyWindow } from './hedge.ts';
import { RetryBudget, type RetryOptions } from './retry.ts';

/**
 * What the client keeps per target service: its retry budget and its
 * latency window (for percentile hedging). Made on the first call to the
 * target and found once per call (not per attempt). Its circuit breaker
 * and bulkhead are made by their layers on the target's first attempt.
 */
export class Target {
  /** The service's name (a plain URL's origin). */
  readonly name: string;
  readonly budget: RetryBudget;
  /** Hedgeable calls and the backups sent for them (each call's own share applies, see `HedgeOptions.maxExtraLoad`). */
  readonly hedges = new RetryBudget({ minPerSecond: 1 });
  readonly latencies = new LatencyWindow();
  /** The target's circuit (set by the circuit-breaker layer). */
  breaker: CircuitBreaker | undefined;
  /** The target's bulkhead (set by the bulkhead layer). */
  bulkhead: Bulkhead | undefined;

  constructor(name: string, budget: RetryOptions['budget']) {
    this.name = name;
    this.budget = new RetryBudget(budget);
  }
}

/** The client's targets, by name. */
export class Targets {
  readonly #byName = new Map<string, Target>();
  readonly #budget: RetryOptions['budget'];

  constructor(budget: RetryOptions['budget']) {
    this.#budget = budget;
  }

  get(name: string): Target {
    let target = this.#byName.get(name);
    if (!target) {
      // Plain URLs name their target by origin, which callers choose: bound the map.
      if (this.#byName.size >= 4_096) this.#byName.clear();
      target = new Target(name, this.#budget);
      this.#byName.set(name, target);
    }
    return target;
  }
}
