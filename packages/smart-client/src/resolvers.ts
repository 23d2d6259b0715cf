import type { AtlasClient, Instance } from 'atlas-client';

/** A place a service can be reached: an origin such as `http://10.0.3.7:3000`. */
export interface Endpoint {
  readonly id: string;
  readonly origin: string;
  /** Headers every request to this endpoint carries (the sidecar's `x-smart-service`); none for most. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Finds a service's instances. Answers undefined when it does not know the
 * service (a chain then asks the next resolver), or the live endpoints.
 */
export interface ServiceResolver {
  readonly name: string;
  resolve(service: string, realm: string): readonly Endpoint[] | undefined | Promise<readonly Endpoint[] | undefined>;
  close?(): Promise<void>;
}

const originOf = (url: string) => new URL(url).origin;

/**
 * A fixed map from service name to URLs: for tests and for services outside
 * Atlas.
 *
 * @example
 * staticResolver({ userstore: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'] })
 */
export function staticResolver(map: Readonly<Record<string, readonly string[]>>): ServiceResolver {
  const table = new Map(
    Object.entries(map).map(([service, urls]) => [service, urls.map((url) => ({ id: url, origin: originOf(url) }))]),
  );
  return { name: 'static', resolve: (service) => table.get(service) };
}

/**
 * The environment: `SMART_SERVICE_<NAME>_URL` (the name in UPPER_SNAKE), one
 * URL or several separated by commas.
 *
 * @example
 * envResolver({ SMART_SERVICE_USER_STORE_URL: 'http://users.internal:3000' }) // for service://user-store
 */
export function envResolver(env: Readonly<Record<string, string | undefined>> = process.env): ServiceResolver {
  // Parsed once per distinct value: the variable is read on every call, so a changed one still applies.
  const parsed = new Map<string, readonly Endpoint[]>();
  const variables = new Map<string, string>();
  return {
    name: 'env',
    resolve(service) {
      let variable = variables.get(service);
      if (variable === undefined) {
        variable = `SMART_SERVICE_${service.replaceAll('-', '_').toUpperCase()}_URL`;
        variables.set(service, variable);
      }
      const value = env[variable];
      if (!value) return undefined;
      let endpoints = parsed.get(value);
      if (!endpoints) {
        endpoints = value
          .split(',')
          .map((url) => url.trim())
          .filter(Boolean)
          .map((url) => ({ id: url, origin: originOf(url) }));
        if (parsed.size > 1_024) parsed.clear();
        parsed.set(value, endpoints);
      }
      return endpoints;
    },
  };
}

/**
 * Atlas: the first call for a service starts a watch of its instances and
 * waits for the first answer; after that every call is answered from memory
 * (no lookup on the hot path) and the watch keeps it current. When Atlas is
 * down at the first call, the last-known-good copy is used.
 */
export function atlasResolver(client: AtlasClient, options: { onError?: (err: Error) => void } = {}): ServiceResolver {
  const known = new Map<string, readonly Endpoint[]>();
  const starting = new Map<string, Promise<readonly Endpoint[]>>();
  const watches: { stop(): Promise<void> }[] = [];
  const toEndpoints = (instances: readonly Instance[]) => instances.map((i) => ({ id: i.id, origin: originOf(i.url) }));

  function start(service: string, realm: string): Promise<readonly Endpoint[]> {
    const key = `${realm}/${service}`;
    return new Promise((resolve) => {
      let first = true;
      const fallback = setTimeout(async () => {
        if (!first) return;
        first = false;
        const cached = await client.lastKnownInstances(service, realm);
        const endpoints = toEndpoints(cached ?? []);
        known.set(key, endpoints);
        resolve(endpoints);
      }, 2_000);
      watches.push(
        client.watchInstances(
          service,
          realm,
          (instances) => {
            known.set(key, toEndpoints(instances));
            if (first) {
              first = false;
              clearTimeout(fallback);
              resolve(known.get(key) ?? []);
            }
          },
          { onError: (err) => options.onError?.(err) },
        ),
      );
    });
  }

  return {
    name: 'atlas',
    resolve(service, realm) {
      const key = `${realm}/${service}`;
      const endpoints = known.get(key);
      if (endpoints) return endpoints;
      let pending = starting.get(key);
      if (!pending) {
        pending = start(service, realm);
        starting.set(key, pending);
      }
      return pending;
    },
    async close() {
      await Promise.all(watches.splice(0).map((watch) => watch.stop()));
    },
  };
}

/** True for a promise (resolvers answer from memory when they can: no microtask then). */
export const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | undefined)?.then === 'function';

/** Asks each resolver in turn; the first that knows the service (with any instance) answers. */
export function chainResolver(resolvers: readonly ServiceResolver[]): ServiceResolver {
  const from = async (
    index: number,
    pending: Promise<readonly Endpoint[] | undefined>,
    service: string,
    realm: string,
  ) => {
    const endpoints = await pending;
    if (endpoints && endpoints.length > 0) return endpoints;
    return ask(index + 1, service, realm);
  };
  // Synchronous while every resolver answers synchronously.
  const ask = (
    start: number,
    service: string,
    realm: string,
  ): readonly Endpoint[] | undefined | Promise<readonly Endpoint[] | undefined> => {
    for (let index = start; index < resolvers.length; index++) {
      const answer = (resolvers[index] as ServiceResolver).resolve(service, realm);
      if (isPromise(answer)) return from(index, answer, service, realm);
      if (answer && answer.length > 0) return answer;
    }
    return undefined;
  };
  return {
    name: `chain(${resolvers.map((r) => r.name).join(',')})`,
    resolve: (service, realm) => ask(0, service, realm),
    async close() {
      await Promise.all(resolvers.map((r) => r.close?.()));
    },
  };
}
