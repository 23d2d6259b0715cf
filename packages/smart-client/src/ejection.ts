import type { Endpoint } from './resolvers.ts';

/** Outlier ejection (after Envoy's consecutive-5xx detector). */
export interface EjectionOptions {
  /** Consecutive failures that eject an instance. Default 5. */
  readonly consecutiveFailures?: number;
  /** An ejection lasts this long x the number of times the instance was ejected. Default 30 s. */
  readonly baseMs?: number;
}

interface Health {
  failures: number;
  ejections: number;
  ejectedUntil: number;
}

/**
 * Tracks each instance's consecutive failures (refused or reset connections,
 * 502/503/504). At the threshold the instance is left out of picks for
 * `baseMs` x its ejection count; a success resets the count. The last
 * instances standing are never all ejected: callers then get them all.
 */
export class Ejector {
  readonly #threshold: number;
  readonly #baseMs: number;
  readonly #health = new Map<string, Health>();
  readonly #onEject: ((origin: string, forMs: number) => void) | undefined;
  // Ejections ever made: while none, picks skip the filter (the common case).
  #ejected = 0;

  constructor(options: EjectionOptions = {}, onEject?: (origin: string, forMs: number) => void) {
    this.#threshold = options.consecutiveFailures ?? 5;
    this.#baseMs = options.baseMs ?? 30_000;
    this.#onEject = onEject;
  }

  #of(origin: string): Health {
    let health = this.#health.get(origin);
    if (!health) {
      health = { failures: 0, ejections: 0, ejectedUntil: 0 };
      this.#health.set(origin, health);
    }
    return health;
  }

  /** The endpoints not ejected now; all of them when every one is (never eject the last). */
  available(endpoints: readonly Endpoint[]): readonly Endpoint[] {
    if (this.#ejected === 0) return endpoints;
    const now = Date.now();
    const healthy = endpoints.filter((e) => (this.#health.get(e.origin)?.ejectedUntil ?? 0) <= now);
    return healthy.length > 0 ? healthy : endpoints;
  }

  succeeded(origin: string): void {
    const health = this.#health.get(origin);
    if (health) health.failures = 0;
  }

  /** Counts a failure of `origin`; true when it ejected the instance. */
  failed(origin: string, endpoints: readonly Endpoint[] | undefined): boolean {
    const health = this.#of(origin);
    health.failures++;
    if (health.failures < this.#threshold || !endpoints) return false;
    // Never eject the last instance still in service.
    const others = this.available(endpoints).filter((e) => e.origin !== origin);
    if (others.length === 0) return false;
    health.failures = 0;
    health.ejections++;
    const forMs = this.#baseMs * health.ejections;
    health.ejectedUntil = Date.now() + forMs;
    this.#ejected++;
    this.#onEject?.(origin, forMs);
    return true;
  }
}
