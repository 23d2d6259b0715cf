import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { DEADLINE_HEADER, REQUEST_ID_HEADER } from 'smart-protocol';
import { runInRequest } from '../context.ts';
import { DeadlinePassedError } from '../errors.ts';
import { writeAccessLine } from '../logger.ts';
import { kRoute, pathOf, routeOf } from './request-context.ts';

// The requests in flight on a connection; set (if only to undefined) once its 'close' is watched.
const kPending = Symbol('smart-service.pendingRequests');
// Set on a request whose client hung up (rare: not a decorated field, so no request pays for it).
const kAbandoned = Symbol('smart-service.abandoned');
type Abandonable = FastifyRequest & { [kAbandoned]?: true };
type Connection = Socket & { [kPending]?: FastifyRequest | Set<FastifyRequest> | undefined };

/** Told of every finished (or client-aborted, status 499) request. */
export type RequestObserver = (request: FastifyRequest, status: number, seconds: number) => void;

/**
 * A check every request passes before its handler, inside the request's
 * context: undefined to go on, an error to answer with it, a promise to wait
 * for (rejected: answer with its error). Fault injection and protection are gates.
 */
export type Gate = (request: FastifyRequest, reply: FastifyReply) => Error | PromiseLike<void> | undefined;

/** The requests in flight, and who is told when one finishes. */
export interface Lifecycle {
  /** Run in order on every request, in the lifecycle's own `onRequest` hook. */
  readonly gates: Gate[];
  readonly inFlight: ReadonlyMap<FastifyRequest, FastifyReply>;
  readonly observers: RequestObserver[];
  /** Resolves once no request is in flight. */
  whenIdle(): Promise<void>;
  /** Runs the rest of each request (after `onRequest`): tracing enters the request's span here. */
  around: ((request: FastifyRequest, next: () => void) => void) | undefined;
  /** Set once the server is closing (graceful-shutdown): each new request fails with the error it makes. */
  refuse: (() => Error) | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @internal The request lifecycle other plugins observe. */
    readonly lifecycle: Lifecycle;
  }
  interface FastifyRequest {
    /** The incoming `x-smart-deadline` (absolute epoch ms), when the caller sent one. */
    deadline: number | undefined;
  }
}

/**
 * Everything that happens to every request, in one `onRequest` and one
 * `onResponse` hook (each Fastify hook costs throughput, so features share
 * these instead of adding their own): the request id echoed, the deadline
 * read and enforced, the async context entered, in-flight tracking for the
 * drain, one access line, and the observers (metrics).
 */
export const requestLifecycle = fp(
  async function requestLifecycle(app: FastifyInstance) {
    const inFlight = new Map<FastifyRequest, FastifyReply>();
    const observers: RequestObserver[] = [];
    let idle: (() => void) | undefined;

    const gates: Gate[] = [];
    const lifecycle: Lifecycle = {
      gates,
      around: undefined,
      refuse: undefined,
      inFlight,
      observers,
      whenIdle: () =>
        inFlight.size === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              idle = resolve;
            }),
    };
    // The requests in flight on each connection (more than one only when the client pipelines),
    // ended as abandoned when it closes first. One 'close' listener per connection.
    const onConnectionClose = function onConnectionClose(this: Connection) {
      const pending = this[kPending];
      this[kPending] = undefined;
      if (pending instanceof Set) for (const request of pending) abandoned(request);
      else if (pending) abandoned(pending);
    };
    const watchSocket = (request: FastifyRequest) => {
      const socket = request.raw.socket as Connection | null;
      if (!socket) return;
      // The connection's first request: its 'close' is watched from now on.
      if (!(kPending in socket)) socket.on('close', onConnectionClose);
      const pending = socket[kPending];
      if (pending === undefined) socket[kPending] = request;
      else if (pending instanceof Set) pending.add(request);
      else socket[kPending] = new Set([pending, request]);
    };
    const unwatchSocket = (request: FastifyRequest) => {
      const socket = request.raw.socket as Connection | null;
      if (!socket) return;
      const pending = socket[kPending];
      if (pending === request) socket[kPending] = undefined;
      else if (pending instanceof Set) pending.delete(request);
    };
    app.decorate('lifecycle', lifecycle);
    app.decorateRequest('deadline', undefined);
    app.decorateRequest(kRoute as unknown as string, undefined);

    app.addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      inFlight.set(request, reply);
      watchSocket(request);
      // Shutting down (plugins/graceful-shutdown.ts): the client should reconnect elsewhere;
      // once the server is closing, Fastify's own bare 503 is replaced by a problem.
      if (app.shuttingDown) {
        reply.header('connection', 'close');
        if (lifecycle.refuse) {
          done(lifecycle.refuse());
          return;
        }
      }
      const raw = request.raw.headers[DEADLINE_HEADER];
      if (typeof raw === 'string' && /^\d{1,16}$/.test(raw)) {
        request.deadline = Number(raw);
        const late = Date.now() - request.deadline;
        if (late >= 0) {
          done(new DeadlinePassedError(late));
          return;
        }
      }
      // The gates run here rather than as hooks of their own: each Fastify hook costs a
      // round through its hook runner on every request.
      const next = gates.length === 0 ? done : () => passGates(request, reply, 0, done);
      const around = lifecycle.around;
      if (around) around(request, () => runInRequest({ app, request, reply }, next));
      else runInRequest({ app, request, reply }, next);
    });
    const passGates = (request: FastifyRequest, reply: FastifyReply, from: number, done: (err?: Error) => void) => {
      for (let i = from; i < gates.length; i++) {
        const verdict = (gates[i] as Gate)(request, reply);
        if (verdict === undefined) continue;
        if (verdict instanceof Error) {
          done(verdict);
          return;
        }
        verdict.then(() => passGates(request, reply, i + 1, done), done);
        return;
      }
      done();
    };

    const finished = (request: FastifyRequest, status: number, seconds: number, aborted: boolean) => {
      inFlight.delete(request);
      for (const observe of observers) observe(request, status, seconds);
      // One access line; routes with a higher logLevel (health, metrics) stay quiet.
      writeAccessLine(request.log as Logger, {
        method: request.method,
        route: routeOf(request),
        // The path without its query string, which may carry tokens or personal data.
        path: pathOf(request.url),
        status,
        durationMs: Math.round(seconds * 100_000) / 100,
        aborted,
      });
      if (inFlight.size === 0 && idle) {
        idle();
        idle = undefined;
      }
    };
    app.addHook('onResponse', (request, reply, done) => {
      // Once: a handler that answers after its client hung up ends nothing twice.
      if ((request as Abandonable)[kAbandoned] !== true) {
        unwatchSocket(request);
        finished(request, reply.statusCode, reply.elapsedTime / 1000, false);
      }
      done();
    });
    // A client that hangs up gets no response: 499, nginx's "client closed request".
    // Told by the connection's 'close', one listener per connection, where Fastify's
    // `onRequestAbort` adds a listener (and a closure) to every request.
    const abandoned = (request: FastifyRequest) => {
      const reply = inFlight.get(request);
      if (!reply) return;
      (request as Abandonable)[kAbandoned] = true;
      finished(request, 499, reply.elapsedTime / 1000, true);
    };
  },
  { name: 'smart-request-lifecycle', dependencies: ['smart-graceful-shutdown'] },
);
