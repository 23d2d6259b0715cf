/**
 * Route contracts: a route's method, URL and zod schemas, declared once and
 * used three ways: the service registers its handler with them (typed by
 * the zod type provider, validated, described in `/openapi.json`), and a
 * caller's typed client infers paths, inputs and answers from their type.
 */
import type { z } from 'zod';

/** The methods a typed client calls. */
export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route's schemas: zod for each input and for each answer by status (`200`, `201`, `204`, ...). */
export interface RouteSchemas {
  readonly params?: z.ZodType;
  readonly querystring?: z.ZodType;
  readonly body?: z.ZodType;
  readonly headers?: z.ZodType;
  readonly response?: { readonly [status: string | number]: z.ZodType };
  /** OpenAPI extras: `summary`, `description`, `tags`, `operationId`, `deprecated`. */
  readonly [extra: string]: unknown;
}

/** A route's contract: what `app.route({ ...contract, handler })` and typed clients share. */
export interface RouteContract {
  readonly method: ApiMethod;
  readonly url: string;
  readonly schema?: RouteSchemas;
}

/** A service's routes by name. */
export type RouteContracts = Readonly<Record<string, RouteContract>>;

/**
 * What a typed client needs of one route: the types of its path params,
 * query, JSON body and successful answer. A key absent means the route
 * takes none. This is the shape `smart api client` generates from an
 * OpenAPI document, and `ApiOf` derives from route contracts.
 */
export interface RouteTypes {
  readonly params?: object;
  readonly query?: object;
  readonly body?: unknown;
  readonly answer: unknown;
}

/** A service's API for a typed client: route types by `'<METHOD> <url>'` (`'GET /price/:n'`). */
export type Api = { readonly [route: string]: RouteTypes };

type Output<S> = S extends z.ZodType ? z.output<S> : never;

type SuccessStatus<R> = {
  [K in keyof R]-?: `${K & (string | number)}` extends `2${string}` ? K : never;
}[keyof R];

type AnswerOf<S> = S extends { readonly response: infer R }
  ? [SuccessStatus<R>] extends [never]
    ? unknown
    : Output<R[SuccessStatus<R>]>
  : unknown;

// Params and query are given as the handler sees them (`n: number` for `z.coerce.number()`) and sent as strings;
// the body as it is sent (before transforms and defaults: a field with a default is optional).
type TypesOf<S> = (S extends { readonly params: z.ZodType } ? { params: z.output<S['params']> } : unknown) &
  (S extends { readonly querystring: z.ZodType } ? { query: z.output<S['querystring']> } : unknown) &
  (S extends { readonly body: z.ZodType } ? { body: z.input<S['body']> } : unknown) & { answer: AnswerOf<S> };

type Flat<T> = { [K in keyof T]: T[K] };

/**
 * The `Api` of a service's route contracts: what a caller in the same
 * workspace imports (as a type only) to get a typed client.
 *
 * @example
 * import type { Routes } from '../../pricing/src/routes.ts';
 * type PricingApi = ApiOf<Routes>; // { 'GET /price/:n': { params: { n: number }; answer: { n: number; cost: number } } }
 */
export type ApiOf<R extends RouteContracts> = {
  [K in keyof R as `${R[K]['method']} ${R[K]['url']}`]: Flat<TypesOf<NonNullable<R[K]['schema']>>>;
};

/**
 * Declares a service's route contracts, keeping their literal types (the
 * method, the URL, each schema) for handlers and typed clients. Register
 * each with `app.withTypeProvider<ZodTypeProvider>().route({ ...routes.x, handler })`;
 * export `type Routes = typeof routes` for callers.
 *
 * @example
 * export const routes = defineRoutes({
 *   price: {
 *     method: 'GET',
 *     url: '/price/:n',
 *     schema: { params: z.object({ n: z.coerce.number().int() }), response: { 200: z.object({ cost: z.number() }) } },
 *   },
 * });
 * export type Routes = typeof routes;
 */
export function defineRoutes<const R extends RouteContracts>(routes: R): R {
  return routes;
}
