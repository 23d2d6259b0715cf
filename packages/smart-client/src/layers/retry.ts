import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { ClientEvents } from '../options.ts';
import { isRetryableError, isRetryableStatus, type RetryOptions, retryAfterMs } from '../retry.ts';
import type { Attempt, Layer, Send } from './layer.ts';

/** The call has instances it has not sent an attempt to yet. */
function untriedLeft(attempt: Attempt): boolean {
  const endpoints = attempt.call.endpoints;
  return endpoints !== undefined && endpoints.length > (attempt.call.tried()?.size ?? 0);
}

class Retry {
  readonly #next: Send;
  readonly #maxAttempts: number;
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #events: ClientEvents | undefined;

  constructor(next: Send, options: RetryOptions, events: ClientEvents | undefined) {
    this.#next = next;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#baseMs = options.baseMs ?? 25;
    this.#capMs = options.capMs ?? 250;
    this.#events = events;
  }

  // Full jitter: a random wait in [0, min(cap, base x 2^(n-1))].
  #backoff(n: number): number {
    return Math.random() * Math.min(this.#capMs, this.#baseMs * 2 ** (n - 1));
  }

  // Another attempt only while attempts remain, the deadline leaves room for the wait and the budget allows;
  // never into an open circuit (the retry would fail fast and spend budget for nothing).
  #mayRetry(attempt: Attempt, n: number, wait: number): boolean {
    const call = attempt.call;
    if (!call.retryable || n >= this.#maxAttempts || Date.now() + wait >= call.deadline) return false;
    if (call.target.breaker?.refusing()) return false;
    if (call.target.budget.tryRetry()) return true;
    this.#events?.onBudgetExhausted?.(call.service);
    return false;
  }

  send(first: Attempt): Promise<Dispatcher.ResponseData> {
    first.call.target.budget.request();
    return this.#attempt(first, 1);
  }

  // n counts this layer's attempts (a hedge sent beside one is not a retry). The answer that needs no
  // retry, nearly every one, passes through a `then`; only a failure or a retryable status goes on.
  #attempt(attempt: Attempt, n: number): Promise<Dispatcher.ResponseData> {
    let running: Promise<Dispatcher.ResponseData>;
    try {
      running = this.#next(attempt);
    } catch (err) {
      running = Promise.reject(err);
    }
    return running.then(
      (response) => (isRetryableStatus(response.statusCode) ? this.#afterStatus(attempt, n, response) : response),
      (err: unknown) => this.#afterError(attempt, n, err),
    );
  }

  async #afterError(attempt: Attempt, n: number, err: unknown): Promise<Dispatcher.ResponseData> {
    const wait = this.#backoff(n);
    if (!isRetryableError(err) || !this.#mayRetry(attempt, n, wait)) throw err;
    this.#events?.onRetry?.(attempt.call.service);
    await sleep(wait);
    return this.#attempt(attempt.another('retry'), n + 1);
  }

  async #afterStatus(attempt: Attempt, n: number, response: Dispatcher.ResponseData): Promise<Dispatcher.ResponseData> {
    // The upstream's Retry-After wins over our back-off when the retry can only go back to it; a retry
    // to an instance not yet tried (the balance layer picks one) need not wait for the one that refused.
    // If no retry can follow, this answer stands.
    const wait = (untriedLeft(attempt) ? undefined : retryAfterMs(response)) ?? this.#backoff(n);
    if (!this.#mayRetry(attempt, n, wait)) return response;
    await response.body.dump();
    this.#events?.onRetry?.(attempt.call.service);
    await sleep(wait);
    return this.#attempt(attempt.another('retry'), n + 1);
  }
}

/**
 * Retries a call after a refused or reset connection or a 502/503/504, on
 * another instance (the balance layer avoids those tried), while the call
 * may be retried (an idempotent method or an `idempotency-key`), attempts
 * remain, the target's retry budget allows and the deadline leaves room for
 * the back-off, or the upstream's `Retry-After` when no other instance is
 * left to try. The last answer stands when no retry can follow.
 *
 * @example
 * const send = retry({ maxAttempts: 3 }, events)(next);
 */
export function retry(options: RetryOptions, events: ClientEvents | undefined): Layer {
  return function retry(next) {
    const layer = new Retry(next, options, events);
    return (attempt) => layer.send(attempt);
  };
}
