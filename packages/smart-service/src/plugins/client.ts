import type { AtlasClient } from 'atlas-client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  atlasResolver,
  type CallContext,
  chainResolver,
  createClient,
  DEADLINE_HEADER,
  envResolver,
  type SmartClient,
} from 'smart-client';
import type { Env } from 'smart-config';
import { maybeCurrentRequest } from '../context.ts';
import { SmartServiceError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The smart client: `service://` calls carrying this request's id, trace, caller and deadline. */
    readonly client: SmartClient;
  }
  interface FastifyRequest {
    /** The incoming `x-smart-deadline` (epoch ms), when the caller sent one. */
    deadline: number | undefined;
  }
}

/** The incoming deadline has passed: the handler never runs. */
export class DeadlinePassedError extends SmartServiceError {
  static readonly code = 'SMART_SERVICE_DEADLINE_PASSED';
  /** The caller should see why, in every realm. */
  readonly expose = true;
  /** Not a bug of this service: not reported to Bugsnag. */
  readonly report = false;
  constructor(late: number) {
    super(DeadlinePassedError.code, 504, `the caller's deadline passed ${late} ms ago: the request was not handled`);
  }
}

function contextOf(request: FastifyRequest | undefined, service: string): CallContext | undefined {
  if (!request) return { caller: service };
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    requestId: request.id,
    traceparent: header('traceparent'),
    tracestate: header('tracestate'),
    caller: service,
    deadline: request.deadline,
  };
}

interface ClientPluginOptions {
  readonly env: Env;
  readonly atlasClient: AtlasClient | undefined;
}

/**
 * `app.client`, resolving services from the environment
 * (`SMART_SERVICE_<NAME>_URL`) and then Atlas (when `SMART_ATLAS_URL` is set),
 * and the incoming side of deadlines: a request whose `x-smart-deadline`
 * (absolute epoch ms) has passed gets 504 before its handler runs.
 */
export const client = fp(
  async function client(app: FastifyInstance, options: ClientPluginOptions) {
    const resolvers = [envResolver(options.env)];
    if (options.atlasClient) resolvers.push(atlasResolver(options.atlasClient));
    const smartClient = createClient({
      realm: app.realm,
      resolver: chainResolver(resolvers),
      context: () => contextOf(maybeCurrentRequest(), app.serviceInfo.name),
    });
    app.decorate('client', smartClient);
    app.decorateRequest('deadline', undefined);

    app.addHook('onRequest', (request, _reply, done) => {
      const raw = request.headers[DEADLINE_HEADER];
      const deadline = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : undefined;
      request.deadline = deadline;
      done();
    });
    // Checked just before the handler, after the body arrived: no handler starts after its deadline.
    app.addHook('preHandler', (request, _reply, done) => {
      const late = request.deadline === undefined ? 0 : Date.now() - request.deadline;
      done(late >= 0 && request.deadline !== undefined ? new DeadlinePassedError(late) : undefined);
    });
    app.addHook('onClose', async () => {
      // The Atlas client is closed by its own plugin; here only the connections.
      await smartClient.close();
    });
  },
  { name: 'smart-client' },
);
