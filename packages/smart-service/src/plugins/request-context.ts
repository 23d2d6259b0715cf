import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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
