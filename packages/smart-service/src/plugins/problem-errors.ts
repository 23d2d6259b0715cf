import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PROBLEM_CONTENT_TYPE, type Problem, REQUEST_ID_HEADER } from 'smart-protocol';
import { MethodNotAllowedError, problemCodes } from '../errors.ts';
import { pathOf } from './request-context.ts';

// Not `import ... from 'node:http'`: an ES module importing node:http gets
// a facade of all its exports, whose getters (WebSocket, MessageEvent)
// load Node's bundled undici and zlib, 25 ms of a cold start. Fastify,
// being CommonJS, gets the module itself.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

interface ProblemErrorOptions {
  readonly service: string;
  readonly production: boolean;
}

type ThrownError = FastifyError & {
  status?: number;
  expose?: boolean;
  problem?: Record<string, unknown>;
  validation?: { instancePath?: string; message?: string; params?: { missingProperty?: string } }[];
  /** A RemoteError's chain. */
  toCause?: () => unknown;
  /** False for errors that are not this service's bug (a passed deadline). */
  report?: boolean;
  /** Response headers the error asks for (`WWW-Authenticate`, `Retry-After`), as http-errors and Fastify honour them. */
  headers?: Record<string, string>;
};

// Headers an error may not set: the problem body decides these.
const OWN_HEADERS = new Set(['content-type', 'content-length', 'transfer-encoding', REQUEST_ID_HEADER]);

function statusOf(err: ThrownError): number {
  const status = err.statusCode ?? err.status;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

// SCREAMING_SNAKE of the status phrase: 404 -> NOT_FOUND, 413 -> PAYLOAD_TOO_LARGE.
function codeFor(status: number): string {
  return (STATUS_CODES[status] ?? 'ERROR').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

function fieldsOf(err: ThrownError): Problem['errors'] {
  const where = (err as { validationContext?: string }).validationContext ?? 'body';
  return (err.validation ?? []).map((issue) => {
    const path = issue.instancePath ?? '';
    const missing = issue.params?.missingProperty;
    return { in: where, field: missing ? `${path}/${missing}` : path || '/', message: issue.message ?? 'is invalid' };
  });
}

/** Builds the problem body for an error; internal details only outside production. */
export function problemFor(err: ThrownError, request: FastifyRequest, options: ProblemErrorOptions): Problem {
  const status = statusOf(err);
  const exposed = err.expose ?? status < 500;
  const body: Record<string, unknown> = {
    ...(exposed ? err.problem : undefined),
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail:
      exposed || !options.production
        ? err.message
        : 'An internal error occurred. Quote the request id when reporting it.',
    // An error's own code is shown only when it also chose a status: a bare
    // `code` is an internal detail (a Postgres SQLSTATE, ECONNREFUSED).
    code: err.validation
      ? problemCodes.validation
      : err.code && (err.statusCode ?? err.status) !== undefined
        ? err.code
        : status >= 500
          ? problemCodes.internal
          : codeFor(status),
    requestId: request.id,
    service: options.service,
  };
  if (err.validation) body.errors = fieldsOf(err);
  // A RemoteError that escaped a handler keeps the chain of services behind it (no stacks in it).
  if (typeof err.toCause === 'function') body.cause = err.toCause();
  if (!options.production && status >= 500 && err.stack) body.stack = err.stack;
  return body as Problem;
}

// `throw null`, `throw 'text'`, `Promise.reject()`: make an Error of it so
// every path below (status, detail, logging, Bugsnag) can rely on one.
function asError(thrown: unknown): ThrownError {
  if (thrown instanceof Error) return thrown as ThrownError;
  const text = typeof thrown === 'string' ? thrown : `a non-Error value was thrown: ${String(thrown)}`;
  return new Error(text) as ThrownError;
}

function send(reply: FastifyReply, problem: Problem) {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

function setErrorHeaders(reply: FastifyReply, err: ThrownError) {
  if (!err.headers || typeof err.headers !== 'object') return;
  for (const [name, value] of Object.entries(err.headers)) {
    if (!OWN_HEADERS.has(name.toLowerCase()) && typeof value === 'string') reply.header(name, value);
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

// The methods another route answers on this path (for 405 + Allow), or none.
function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = pathOf(url);
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
}

/**
 * Fastify's `frameworkErrors`: the answers Fastify makes before any hook
 * runs (a URL it cannot decode, `%ZZ`; a parameter too long) as problem+json
 * with `x-request-id`, like every other answer.
 *
 * @example
 * Fastify({ frameworkErrors: frameworkErrors({ service: 'orders', production: false }) });
 */
export function frameworkErrors(options: ProblemErrorOptions) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    // Fastify's message quotes the whole URL, query (and any token in it) included.
    const message = err.code === 'FST_ERR_BAD_URL' ? `'${pathOf(request.url)}' is not a valid URL` : err.message;
    const problem = problemFor(Object.assign(asError(err), { message }), request, options);
    request.log.debug({ code: problem.code, status: problem.status, detail: problem.detail }, 'request refused');
    return send(reply, problem);
  };
}

/**
 * Every error answered as `application/problem+json`: thrown errors,
 * `httpErrors` from @fastify/sensible, schema validation (400 with the
 * failing fields), unknown routes (404), Fastify's own (bad JSON 400, body
 * too large 413). 5xx are logged and reported to Bugsnag; 4xx are not.
 */
export const problemErrors = fp(
  async function problemErrors(app: FastifyInstance, options: ProblemErrorOptions) {
    app.setErrorHandler((thrown: unknown, request, reply) => {
      const original = asError(thrown);
      // Redis or the database unavailable: 503 with Retry-After, counted
      // (one log line per outage transition, plugins/dependencies.ts), not logged here.
      const unavailable = app.hasDecorator('dependencies') ? app.dependencies.unavailable(original) : undefined;
      const err = (unavailable as ThrownError | undefined) ?? original;
      const problem = problemFor(err, request, options);
      if (unavailable) {
        // Counted by the tracker: one line per outage, not one per request.
      } else if (err.report === false) {
        request.log.info({ code: problem.code, status: problem.status, detail: problem.detail }, 'request refused');
      } else if (problem.status >= 500) {
        request.log.error({ err }, 'request failed');
        app.reportError(err, request);
      } else {
        request.log.debug({ code: problem.code, status: problem.status, detail: problem.detail }, 'request refused');
      }
      setErrorHeaders(reply, err);
      return send(reply, problem);
    });

    app.setNotFoundHandler((request, reply) => {
      const allowed = allowedMethods(app, request.url);
      if (allowed.length > 0) {
        const err = new MethodNotAllowedError(request.method, pathOf(request.url), allowed.join(', '));
        reply.header('allow', allowed.join(', '));
        return send(reply, problemFor(err as unknown as ThrownError, request, options));
      }
      const problem = problemFor(
        Object.assign(new Error(`no route for ${request.method} ${pathOf(request.url)}`), {
          statusCode: 404,
          code: problemCodes.notFound,
        }) as ThrownError,
        request,
        options,
      );
      return send(reply, problem);
    });
  },
  { name: 'smart-problem-errors', dependencies: ['smart-bugsnag'] },
);
