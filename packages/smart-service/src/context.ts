import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NoCurrentAppError, NoCurrentRequestError } from './errors.ts';

interface RequestContext {
  readonly app: FastifyInstance;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

/** @internal The request context's storage, shared by tracing's context manager (one hop per request). */
export const storage = new AsyncLocalStorage<RequestContext>();
const liveApps = new Set<FastifyInstance>();

/** @internal Runs `fn` (the rest of the request) inside the request's context. */
export function runInRequest(context: RequestContext, fn: () => void): void {
  storage.run(context, fn);
}

/** @internal Tracks the apps alive in this process, for `currentApp()` outside requests. */
export function trackApp(app: FastifyInstance): void {
  liveApps.add(app);
  app.addHook('onClose', async () => {
    liveApps.delete(app);
  });
}

/**
 * The smart service handling the current request, from anywhere: handlers,
 * hooks, the functions they call, promises and timers they start. Outside a
 * request it returns the one app alive in the process, and throws
 * `SMART_SERVICE_NO_APP` when there are none or several.
 *
 * @example
 * export async function findUser(id: string) {
 *   const app = currentApp();
 *   return app.db.selectFrom('users').where('id', '=', id).selectAll().executeTakeFirst();
 * }
 */
export function currentApp(): FastifyInstance {
  const context = storage.getStore();
  if (context) return context.app;
  if (liveApps.size === 1) return liveApps.values().next().value as FastifyInstance;
  throw new NoCurrentAppError(
    liveApps.size === 0
      ? 'no smart service has been created in this process (or all are closed)'
      : `called outside a request while ${liveApps.size} smart services are alive, so it cannot tell which one`,
  );
}

/**
 * The request being handled, from anywhere in its async flow. Throws
 * `SMART_SERVICE_NO_REQUEST` outside a request.
 *
 * @example
 * currentRequest().log.info({ userId }, 'charging user');
 */
export function currentRequest(): FastifyRequest {
  const context = storage.getStore();
  if (!context) throw new NoCurrentRequestError();
  return context.request;
}

/** The current request, or undefined outside one (never throws). */
export function maybeCurrentRequest(): FastifyRequest | undefined {
  return storage.getStore()?.request;
}
