import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

// @fastify/sensible's decorators, made from its own modules as its index.js
// makes them (version 6.0.6; test/sensible.test.ts checks that the two
// decorate the same names). Its index requires at once what few requests
// use: http-errors with depd (~3.5 ms of a cold start) for `app.httpErrors`,
// `app.assert` and the error replies, type-is with mime-db (~9 ms) for
// `request.is()`, and forwarded. Here each loads at its first use. Its
// `fastify: '5.x'` check, a start's first semver range (~2.5 ms), is left
// out as well.
const fromSensible = createRequire(createRequire(import.meta.url).resolve('@fastify/sensible'));

type HttpErrors = FastifyInstance['httpErrors'];
let httpErrorsModule: HttpErrors | undefined;
const httpErrors = (): HttpErrors => {
  httpErrorsModule ??= fromSensible('./lib/httpErrors') as HttpErrors;
  return httpErrorsModule;
};
let assertModule: FastifyInstance['assert'] | undefined;
const assert = (): FastifyInstance['assert'] => {
  assertModule ??= fromSensible('./lib/assert') as FastifyInstance['assert'];
  return assertModule;
};
const vary = fromSensible('./lib/vary') as () => void;
const cache = fromSensible('./lib/cache-control') as Record<
  'cacheControl' | 'preventCache' | 'revalidate' | 'staticCache' | 'stale' | 'maxAge',
  () => void
>;

// The keys of sensible's lib/httpErrors.js, each a reply method but
// `HttpError` (a class) and `getHttpError` (which takes a status too).
const HTTP_ERRORS = [
  'badRequest',
  'unauthorized',
  'paymentRequired',
  'forbidden',
  'notFound',
  'methodNotAllowed',
  'notAcceptable',
  'proxyAuthenticationRequired',
  'requestTimeout',
  'conflict',
  'gone',
  'lengthRequired',
  'preconditionFailed',
  'payloadTooLarge',
  'uriTooLong',
  'unsupportedMediaType',
  'rangeNotSatisfiable',
  'expectationFailed',
  'imateapot',
  'misdirectedRequest',
  'unprocessableEntity',
  'locked',
  'failedDependency',
  'tooEarly',
  'upgradeRequired',
  'preconditionRequired',
  'tooManyRequests',
  'requestHeaderFieldsTooLarge',
  'unavailableForLegalReasons',
  'internalServerError',
  'notImplemented',
  'badGateway',
  'serviceUnavailable',
  'gatewayTimeout',
  'httpVersionNotSupported',
  'variantAlsoNegotiates',
  'insufficientStorage',
  'loopDetected',
  'bandwidthLimitExceeded',
  'notExtended',
  'networkAuthenticationRequired',
  'createError',
] as const;

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
    app.decorate('httpErrors', { getter: httpErrors });
    app.decorate('assert', { getter: assert });
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
    app.decorateReply(
      'getHttpError',
      function replyGetHttpError(
        this: FastifyReply,
        code: Parameters<HttpErrors['getHttpError']>[0],
        message?: string,
      ) {
        return this.send(httpErrors().getHttpError(code, message));
      },
    );
    for (const name of HTTP_ERRORS) {
      app.decorateReply(name, function replyHttpError(this: FastifyReply, message?: string) {
        return this.send((httpErrors() as unknown as Record<string, (message?: string) => Error>)[name]?.(message));
      });
    }
  },
  { name: '@fastify/sensible' },
);
