import { randomFillSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { isRequestId, REQUEST_ID_HEADER } from 'smart-protocol';
import { noteJsonPlain } from '../logger.ts';

/**
 * Fastify's `genReqId`: keep a valid incoming `x-request-id` (so one id
 * follows a call through every service), else make a new one.
 */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const id = isRequestId(incoming) ? incoming : uuid();
  // Letters, digits and `._-` either way: the request's logger binds it without escaping.
  noteJsonPlain(id);
  return id;
}

// Random (version 4) UUIDs, 256 at a time: one CSPRNG fill and one string for the
// batch, then a slice per id. Node's randomUUID() also draws its bytes in batches but
// builds each id from 16 pieces (~200 ns; ~70 ns here). Written by hand for that cost.
const BATCH = 256;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const random = Buffer.alloc(16 * BATCH);
const text = Buffer.alloc(36 * BATCH);
let ids = '';
let next = BATCH;

/** A random (version 4) UUID, lower-case hex with dashes. */
export function uuid(): string {
  if (next === BATCH) {
    randomFillSync(random);
    let at = 0;
    for (let i = 0; i < BATCH; i++) {
      const base = 16 * i;
      random[base + 6] = ((random[base + 6] as number) & 0x0f) | 0x40; // version 4
      random[base + 8] = ((random[base + 8] as number) & 0x3f) | 0x80; // variant 10
      for (let j = 0; j < 16; j++) {
        if (j === 4 || j === 6 || j === 8 || j === 10) text[at++] = 0x2d; // '-'
        const byte = random[base + j] as number;
        text[at++] = HEX[byte >> 4] as number;
        text[at++] = HEX[byte & 0x0f] as number;
      }
    }
    ids = text.toString('latin1', 0, at);
    next = 0;
  }
  const start = 36 * next++;
  return ids.slice(start, start + 36);
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
    route = routeContextOf(request)?.config?.url ?? null;
    holder[kRoute] = route;
  }
  return route ?? undefined;
}

// Fastify keeps a request's route in its context, under a symbol it does not export;
// `request.routeOptions` reads the template from there too, after building a
// twelve-field object (~0.1 us). The symbol is looked up once, by its description;
// should a Fastify release rename it, routeOptions is read instead (and the
// route tests of the access line and metrics still pass, only slower).
let kContext: symbol | null | undefined;
function routeContextOf(request: FastifyRequest): { config?: { url?: string } } | undefined {
  if (kContext === undefined) {
    kContext = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context') ?? null;
  }
  const context = kContext
    ? (request as unknown as Record<symbol, { config?: { url?: string } }>)[kContext]
    : undefined;
  return context ?? { config: { url: request.routeOptions.url } };
}
