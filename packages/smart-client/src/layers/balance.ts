import type { Dispatcher } from 'undici';
import { AddressPolicy } from '../address-policy.ts';
import type { Balancer } from '../balancer.ts';
import { notAllowed } from '../errors.ts';
import type { Endpoint } from '../resolvers.ts';
import type { Attempt, Layer, Send } from './layer.ts';

/**
 * Which origins calls may reach, decided once per origin, before any
 * socket: an IP literal (in any spelling the URL parser accepts, IPv4-mapped
 * IPv6 included) against the deny list and `allowedHosts`; a name against
 * `allowedHosts` (the addresses it resolves to are checked by the agent's
 * connect-time lookup, see `AddressPolicy`).
 */
export class HostGuard {
  readonly #policy: AddressPolicy;
  readonly #byOrigin = new Map<string, boolean>();

  constructor(allowedHosts: readonly (string | RegExp)[] | undefined, deniedAddresses?: readonly string[]) {
    this.#policy = new AddressPolicy({
      ...(allowedHosts ? { allowedHosts } : {}),
      ...(deniedAddresses ? { deniedAddresses } : {}),
    });
  }

  allows(origin: string): boolean {
    let allowed = this.#byOrigin.get(origin);
    if (allowed === undefined) {
      allowed = this.#policy.allowsHost(new URL(origin).hostname);
      // Origins come from resolvers and callers: bound the cache.
      if (this.#byOrigin.size > 4_096) this.#byOrigin.clear();
      this.#byOrigin.set(origin, allowed);
    }
    return allowed;
  }
}

class Balance {
  readonly #next: Send;
  readonly #balancer: Balancer;
  readonly #guard: HostGuard;

  constructor(next: Send, balancer: Balancer, guard: HostGuard) {
    this.#next = next;
    this.#balancer = balancer;
    this.#guard = guard;
  }

  send(attempt: Attempt): Promise<Dispatcher.ResponseData> {
    const call = attempt.call;
    const endpoints = attempt.candidates ?? call.endpoints;
    if (!endpoints) {
      const origin = call.origin as string;
      if (!this.#guard.allows(origin)) throw notAllowed(origin);
      attempt.origin = origin;
      return this.#next(attempt);
    }
    // The least loaded instance this call has not tried yet (a retry or a hedge goes elsewhere).
    const endpoint = this.#balancer.pick(endpoints, call.tried());
    if (!this.#guard.allows(endpoint.origin)) throw notAllowed(endpoint.origin);
    attempt.endpoint = endpoint;
    attempt.origin = endpoint.origin;
    call.sentTo(endpoint.origin);
    return this.#counted(attempt, endpoint);
  }

  #counted(attempt: Attempt, endpoint: Endpoint): Promise<Dispatcher.ResponseData> {
    const balancer = this.#balancer;
    balancer.start(endpoint);
    let running: Promise<Dispatcher.ResponseData>;
    try {
      running = this.#next(attempt);
    } catch (err) {
      balancer.finish(endpoint);
      throw err;
    }
    return running.then(
      (response) => {
        balancer.finish(endpoint);
        return response;
      },
      (err: unknown) => {
        balancer.finish(endpoint);
        throw err;
      },
    );
  }
}

/**
 * Picks the instance each attempt goes to (p2c on outstanding requests, or
 * round robin, among the endpoints the eject layer left), away from the
 * instances this call already tried, and counts the attempt as outstanding
 * on it until it ends. An origin outside `allowedHosts`, or an address on
 * the deny list (by default link-local, unspecified and multicast ones, in
 * every IPv6 spelling), is `SMART_CLIENT_ADDRESS_NOT_ALLOWED`.
 *
 * @example
 * const send = balance(createBalancer('p2c'), new HostGuard(undefined))(next);
 */
export function balance(balancer: Balancer, guard: HostGuard): Layer {
  return function balance(next) {
    const layer = new Balance(next, balancer, guard);
    return (attempt) => layer.send(attempt);
  };
}
