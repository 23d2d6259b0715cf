import type { Dispatcher } from 'undici';
import type { Ejector } from '../ejection.ts';
import type { ClientEvents } from '../options.ts';
import type { Endpoint } from '../resolvers.ts';
import { isRetryableError, isRetryableStatus } from '../retry.ts';
import type { Attempt, Layer, Send } from './layer.ts';

class Eject {
  readonly #next: Send;
  readonly #ejector: Ejector;
  readonly #events: ClientEvents | undefined;

  constructor(next: Send, ejector: Ejector, events: ClientEvents | undefined) {
    this.#next = next;
    this.#ejector = ejector;
    this.#events = events;
  }

  send(attempt: Attempt): Promise<Dispatcher.ResponseData> {
    const endpoints = attempt.call.endpoints;
    if (!endpoints) return this.#next(attempt);
    attempt.candidates = this.#ejector.available(endpoints);
    let running: Promise<Dispatcher.ResponseData>;
    try {
      running = this.#next(attempt);
    } catch (err) {
      this.#threw(attempt, endpoints, err);
      throw err;
    }
    return running.then(
      (response) => {
        if (attempt.origin !== undefined) {
          if (isRetryableStatus(response.statusCode)) this.#failed(attempt, endpoints);
          else this.#ejector.succeeded(attempt.origin);
        }
        return response;
      },
      (err: unknown) => {
        this.#threw(attempt, endpoints, err);
        throw err;
      },
    );
  }

  #threw(attempt: Attempt, endpoints: readonly Endpoint[], err: unknown): void {
    if (attempt.origin !== undefined && isRetryableError(err)) this.#failed(attempt, endpoints);
  }

  #failed(attempt: Attempt, endpoints: NonNullable<Attempt['candidates']>): void {
    const origin = attempt.origin as string;
    if (this.#ejector.failed(origin, endpoints)) this.#events?.onEject?.(attempt.call.service, origin);
  }
}

/**
 * Outlier ejection (after Envoy's consecutive-5xx detector): leaves ejected
 * instances out of the endpoints an attempt may go to, and counts each
 * attempt's outcome on its instance (a refused or reset connection, a
 * 502/503/504 is a failure; any other answer resets the count).
 *
 * @example
 * const send = eject(new Ejector({ consecutiveFailures: 5 }), events)(next);
 */
export function eject(ejector: Ejector, events: ClientEvents | undefined): Layer {
  return function eject(next) {
    const layer = new Eject(next, ejector, events);
    return (attempt) => layer.send(attempt);
  };
}
