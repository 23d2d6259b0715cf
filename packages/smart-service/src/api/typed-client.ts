/**
 * A typed facade over the smart client for one service: paths, params,
 * query, bodies and answers checked by `tsc`, the call itself made by
 * `SmartClient.request` (service:// resolution, retries, hedging,
 * deadlines, `RemoteError`), so nothing of the client's behaviour changes.
 */
import type { JsonCallOptions } from 'smart-client';
import type { ApiMethod, ApiOf, RouteContract, RouteContracts, RouteTypes } from './routes.ts';

/** The slice of `SmartClient` (`app.client`) a typed client calls. */
export interface JsonCaller {
  request<T = unknown>(method: string, input: string, body?: unknown, options?: JsonCallOptions): Promise<T>;
}

/** An `Api`, given directly (a generated client module's) or as a service's route contracts (`typeof routes`). */
export type ApiFor<T> = T extends RouteContracts ? (T[keyof T] extends RouteContract ? ApiOf<T> : T) : T;

type Route<A, K> = K extends keyof A ? (A[K] extends RouteTypes ? A[K] : never) : never;

/** The paths of `A` answered on `M`. */
export type PathOf<A, M extends ApiMethod> = {
  [K in keyof A]: K extends `${M} ${infer P}` ? P : never;
}[keyof A];

// A part is required when the route takes it and it has a required member; a route that takes none refuses it.
type Part<T, K extends 'params' | 'query' | 'body'> = K extends keyof T
  ? undefined extends T[K]
    ? { readonly [P in K]?: T[K] }
    : Record<never, never> extends T[K]
      ? { readonly [P in K]?: T[K] }
      : { readonly [P in K]: T[K] }
  : { readonly [P in K]?: never };

/** What one typed call takes: its params, query and body, and the smart client's per-call options. */
export type CallInput<T> = Part<T, 'params'> & Part<T, 'query'> & Part<T, 'body'> & JsonCallOptions;

type Args<T> = Record<never, never> extends CallInput<T> ? [input?: CallInput<T>] : [input: CallInput<T>];

type Answer<T> = T extends { readonly answer: infer A } ? A : unknown;

type Call<A, M extends ApiMethod> = <P extends PathOf<A, M>>(
  path: P,
  ...input: Args<Route<A, `${M} ${P}`>>
) => Promise<Answer<Route<A, `${M} ${P}`>>>;

/** A typed client of one service: one method per HTTP method, each taking a path of the service's API. */
export interface ServiceClient<A> {
  readonly service: string;
  readonly get: Call<A, 'GET'>;
  readonly post: Call<A, 'POST'>;
  readonly put: Call<A, 'PUT'>;
  readonly patch: Call<A, 'PATCH'>;
  readonly delete: Call<A, 'DELETE'>;
}

interface AnyInput extends JsonCallOptions {
  readonly params?: Record<string, unknown>;
  readonly query?: Record<string, unknown>;
  readonly body?: unknown;
}

/** `/users/:name/charge` with `{ name: 'ann' }` -> `/users/ann/charge` (each value encoded). */
export function fillPath(path: string, params: Record<string, unknown> = {}): string {
  return path.replace(/:([A-Za-z0-9_]+)|\{([A-Za-z0-9_]+)\}/g, (_, colon: string, brace: string) => {
    const name = colon ?? brace;
    const value = params[name];
    if (value === undefined || value === null) throw new TypeError(`path parameter "${name}" of ${path} is missing`);
    return encodeURIComponent(String(value));
  });
}

/** The query string of `query` (`?a=1&b=x&b=y`), arrays as repeated keys; undefined members left out. */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * A typed client of `service`, over a smart client (`app.client` in a
 * service). `T` is the service's route contracts (`typeof routes`, imported
 * as a type from the service in the same workspace) or an `Api` (from a
 * module `smart api client` generated from its OpenAPI document).
 *
 * @example
 * import type { Routes as PricingRoutes } from '../../pricing/src/routes.ts';
 * const pricing = serviceClient<PricingRoutes>(app.client, 'pricing');
 * const { cost } = await pricing.get('/price/:n', { params: { n: 10 } }); // cost: number
 */
export function serviceClient<T>(client: JsonCaller, service: string): ServiceClient<ApiFor<T>> {
  const call =
    (method: ApiMethod) =>
    (path: string, input: AnyInput = {}): Promise<unknown> => {
      const { params, query, body, ...options } = input;
      return client.request(
        method,
        `service://${service}${fillPath(path, params)}${queryString(query)}`,
        body,
        options,
      );
    };
  return {
    service,
    get: call('GET'),
    post: call('POST'),
    put: call('PUT'),
    patch: call('PATCH'),
    delete: call('DELETE'),
  } as unknown as ServiceClient<ApiFor<T>>;
}
