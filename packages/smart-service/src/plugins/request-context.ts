import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What a request id may look like; anything else is replaced. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Fastify's `genReqId`: keep a valid incoming `x-request-id` (so one id
 * follows a call through every service), else make a new one.
 */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
}

/** A URL's path without its query string, which may carry tokens or personal data. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
