import { noInstances } from '../errors.ts';
import { type Endpoint, isPromise, type ServiceResolver } from '../resolvers.ts';
import type { Attempt, Layer, Send } from './layer.ts';

class Resolve {
  readonly #next: Send;
  readonly #resolver: ServiceResolver;
  readonly #realm: string;

  constructor(next: Send, resolver: ServiceResolver, realm: string) {
    this.#next = next;
    this.#resolver = resolver;
    this.#realm = realm;
  }

  send(attempt: Attempt) {
    const call = attempt.call;
    // A plain URL goes where it says.
    if (call.origin !== undefined) return this.#next(attempt);
    const endpoints = this.#resolver.resolve(call.service, this.#realm);
    // Resolvers answer from memory once warm: wait only on a real promise, so a warm call takes no extra tick.
    if (isPromise(endpoints)) return endpoints.then((resolved) => this.#go(attempt, resolved));
    return this.#go(attempt, endpoints);
  }

  #go(attempt: Attempt, endpoints: readonly Endpoint[] | undefined) {
    if (!endpoints || endpoints.length === 0) throw noInstances(attempt.call.service, this.#realm);
    attempt.call.endpoints = endpoints;
    return this.#next(attempt);
  }
}

/**
 * Resolves a `service://` call's service to its live endpoints in the
 * client's realm (once per call; the attempts choose among them). No
 * endpoint is `SMART_CLIENT_NO_INSTANCES`. Synchronous when the resolver
 * answers without a promise.
 *
 * @example
 * const send = resolve(staticResolver({ users: ['http://127.0.0.1:3001'] }), 'local')(next);
 */
export function resolve(resolver: ServiceResolver, realm: string): Layer {
  return function resolve(next) {
    const layer = new Resolve(next, resolver, realm);
    return (attempt) => layer.send(attempt);
  };
}
