import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

// @fastify/sensible's decorators, made from its own modules as its index.js
// makes them (version 6.0.6; test/sensible.test.ts checks that the two
// decorate the same names). Its index requires type-is (with mime-types and
// mime-db, 200 KB of JSON: ~9 ms of a cold start) and forwarded, for
// `request.is()` and `request.forwarded()`, which few services call: here
// they load at their first call. Its `fastify: '5.x'` check, a start's first
// semver range (~2.5 ms), is left out as well.
const fromSensible = createRequire(createRequire(import.meta.url).resolve('@fastify/sensible'));

// (Typed by @fastify/sensible's own declarations of the decorators.)
const httpErrors = fromSensible('./lib/httpErrors') as FastifyInstance['httpErrors'];
const assert = fromSensible('./lib/assert') as FastifyInstance['assert'];
const vary = fromSensible('./lib/vary') as () => void;
const cache = fromSensible('./lib/cache-control') as Record<
  'cacheControl' | 'preventCache' | 'revalidate' | 'staticCache' | 'stale' | 'maxAge',
  () => void
>;

type TypeIs = (req: unknown, types: unknown[]) => string | false | null;
let typeis: TypeIs | undefined;
let forwarded: ((req: unknown) => string[]) | undefined;

const to = (<T>(promise: Promise<T>): Promise<[Error, undefined] | [null, T]> =>
  promise.then(
    (data) => [null, data],
    (err) => [err, undefined],
  )) as unknown as FastifyInstance['to'];

/**
 * `app.httpErrors`, `app.assert`, `app.to`, `reply.notFound()` and every
 * other HTTP error as a reply method, `reply.vary()` and the cache-control
 * helpers, `request.is()` and `request.forwarded()`: @fastify/sensible's
 * API, its heavier parts loaded at their first use.
 *
 * @example
 * app.get('/items/:id', async (request, reply) => items.get(request.params.id) ?? reply.notFound('no such item'));
 */
export const sensible = fp(
  async function sensible(app: FastifyInstance) {
    app.decorate('httpErrors', httpErrors);
    app.decorate('assert', assert);
    app.decorate('to', to);
    app.decorateRequest('forwarded', function requestForwarded(this: FastifyRequest) {
      forwarded ??= fromSensible('forwarded') as (req: unknown) => string[];
      return forwarded(this.raw);
    });
    app.decorateRequest('is', function requestIs(this: FastifyRequest, ...types: unknown[]) {
      typeis ??= fromSensible('type-is') as TypeIs;
      return typeis(this.raw, types.length === 1 && Array.isArray(types[0]) ? types[0] : types);
    });
    app.decorateReply('vary', vary);
    for (const [name, helper] of Object.entries(cache)) app.decorateReply(name, helper);
    for (const name of Object.keys(httpErrors)) {
      if (name === 'HttpError') continue;
      if (name === 'getHttpError') {
        app.decorateReply(
          'getHttpError',
          function replyGetHttpError(
            this: FastifyReply,
            code: Parameters<typeof httpErrors.getHttpError>[0],
            message?: string,
          ) {
            return this.send(httpErrors.getHttpError(code, message));
          },
        );
        continue;
      }
      const create = (httpErrors as unknown as Record<string, (message?: string) => Error>)[name] as (
        message?: string,
      ) => Error;
      app.decorateReply(name, function replyHttpError(this: FastifyReply, message?: string) {
        return this.send(create(message));
      });
    }
  },
  { name: '@fastify/sensible' },
);
