import type { Endpoint } from './resolvers.ts';

/** Picks the endpoint for the next attempt and tracks requests outstanding per endpoint. */
export interface Balancer {
  pick(endpoints: readonly Endpoint[], avoid?: ReadonlySet<string>): Endpoint;
  start(endpoint: Endpoint): void;
  finish(endpoint: Endpoint): void;
}

/**
 * Power of two choices on outstanding requests (the least loaded of two at
 * random), or round robin. Endpoints in `avoid` (ones this call already
 * tried) are skipped while others remain.
 */
export function createBalancer(strategy: 'p2c' | 'round-robin' = 'p2c'): Balancer {
  const outstanding = new Map<string, number>();
  let turn = 0;
  const load = (endpoint: Endpoint) => outstanding.get(endpoint.origin) ?? 0;
  return {
    pick(endpoints, avoid) {
      const fresh = avoid && avoid.size > 0 ? endpoints.filter((e) => !avoid.has(e.origin)) : endpoints;
      const pool = fresh.length > 0 ? fresh : endpoints;
      if (pool.length === 1) return pool[0] as Endpoint;
      if (strategy === 'round-robin') return pool[turn++ % pool.length] as Endpoint;
      // Two distinct endpoints, uniformly at random.
      const i = Math.floor(Math.random() * pool.length);
      let j = Math.floor(Math.random() * (pool.length - 1));
      if (j >= i) j++;
      const a = pool[i] as Endpoint;
      const b = pool[j] as Endpoint;
      return load(b) < load(a) ? b : a;
    },
    start(endpoint) {
      outstanding.set(endpoint.origin, load(endpoint) + 1);
    },
    finish(endpoint) {
      outstanding.set(endpoint.origin, Math.max(0, load(endpoint) - 1));
    },
  };
}
