import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { isRequestId, REQUEST_ID_HEADER } from 'smart-protocol';

/**
 * Fastify's `genReqId`: keep a valid incoming `x-request-id` (so one id
 * follows a call through every service), else make a new one.
 */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return isRequestId(incoming) ? incoming : randomUUID();
}

/** A URL's path without its query string, which may carry tokens or personal data. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** @internal Where a request's route template is kept once read (decorated by the request lifecycle). */
export const kRoute = Symbol('smart-service.route');

/**
 * The route template a request matched (`/users/:id`), or undefined when
 * none did. Read from Fastify once per request: its `request.routeOptions`
 * builds a new twelve-field object on every read, and the access line,
 * metrics, protection and tracing each need the template.
 */
export function routeOf(request: FastifyRequest): string | undefined {
  const holder = request as unknown as Record<symbol, string | null | undefined>;
  let route = holder[kRoute];
  if (route === undefined) {
    route = request.routeOptions.url ?? null;
    holder[kRoute] = route;
  }
  return route ?? undefined;
}
