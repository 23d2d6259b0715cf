import type { Dispatcher } from 'undici';
import { type CircuitBreakerOptions, CircuitBreaker as TargetBreaker } from '../circuit-breaker.ts';
import { circuitOpen, codes } from '../errors.ts';
import type { ClientEvents } from '../options.ts';
import type { Target } from '../targets.ts';
import type { Attempt, Layer, Send } from './layer.ts';

// Refusals that say nothing of the upstream's health: not counted either way.
const NO_VERDICT = new Set<string>([
  codes.circuitOpen,
  codes.bulkheadFull,
  codes.notAllowed,
  codes.badUrl,
  codes.noInstances,
]);

/** What a call that threw says of the upstream: `undefined` when nothing (the caller gave up, refused before sending). */
function failedBy(attempt: Attempt, err: unknown): boolean | undefined {
  if (attempt.call.callerSignal?.aborted) return undefined;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && NO_VERDICT.has(code) ? undefined : true;
}

class Breaker {
  readonly #next: Send;
  readonly #options: CircuitBreakerOptions;
  readonly #events: ClientEvents | undefined;

  constructor(next: Send, options: CircuitBreakerOptions, events: ClientEvents | undefined) {
    this.#next = next;
    this.#options = options;
    this.#events = events;
  }

  // The target's breaker, made on its first attempt with the target's own settings over the client's.
  #of(target: Target): TargetBreaker {
    let breaker = target.breaker;
    if (breaker) return breaker;
    const { targets, ...settings } = this.#options;
    const name = target.name;
    const onState = this.#events?.onCircuitState;
    breaker = new TargetBreaker({ ...settings, ...targets?.[name] }, (from, to) =>
      onState?.call(this.#events, name, to, from),
    );
    target.breaker = breaker;
    return breaker;
  }

  send(attempt: Attempt): Promise<Dispatcher.ResponseData> {
    const target = attempt.call.target;
    const breaker = this.#of(target);
    const permit = breaker.tryAcquire();
    if (permit < 0) throw circuitOpen(target.name, breaker.state, breaker.retryAfterMs());
    let running: Promise<Dispatcher.ResponseData>;
    try {
      running = this.#next(attempt);
    } catch (err) {
      this.#failed(breaker, permit, attempt, err);
      throw err;
    }
    return running.then(
      (response) => {
        breaker.record(permit, response.statusCode >= 500);
        return response;
      },
      (err: unknown) => {
        this.#failed(breaker, permit, attempt, err);
        throw err;
      },
    );
  }

  #failed(breaker: TargetBreaker, permit: number, attempt: Attempt, err: unknown): void {
    if (failedBy(attempt, err)) breaker.record(permit, true);
    else breaker.release(permit);
  }
}

/**
 * A circuit breaker per target service (see `CircuitBreaker`): a call asks
 * the target's circuit before anything else is done for it (no resolution,
 * no attempt); an open one refuses it at once with
 * `SMART_CLIENT_CIRCUIT_OPEN` (503, a `Retry-After` hint, never retried).
 * The call's final outcome, after its retries and hedges, is what counts:
 * an answer of 500 or more, an unreachable upstream or a timeout is a
 * failure; the caller's own abort, or a refusal before any request was
 * sent, counts as nothing. `onCircuitState` reports each transition once.
 *
 * Why per call and above the retry layer (not per attempt, as first
 * planned): a service whose calls still succeed because retries reach its
 * healthy instances is healthy to its callers; the bad instances are the
 * eject layer's business (one per instance, below). Counting attempts would
 * open the circuit of a service with two bad instances of three whose every
 * call succeeds. Retries and hedges don't get around an open circuit: the
 * retry and hedge layers ask it (`refusing()`) before each extra attempt,
 * so no budget is spent on an attempt that cannot go out.
 *
 * @example
 * const send = circuitBreaker({ failureRateThreshold: 50, minimumNumberOfCalls: 20 }, events)(next);
 */
export function circuitBreaker(options: CircuitBreakerOptions, events: ClientEvents | undefined): Layer {
  return function circuitBreaker(next) {
    const layer = new Breaker(next, options, events);
    return (attempt) => layer.send(attempt);
  };
}
