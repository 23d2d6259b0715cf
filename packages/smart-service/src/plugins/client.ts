import type { AtlasClient } from 'atlas-client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  atlasResolver,
  type CallContext,
  chainResolver,
  createClient,
  envResolver,
  type SmartClient,
} from 'smart-client';
import type { Env } from 'smart-config';
import { maybeCurrentRequest } from '../context.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The smart client: `service://` calls carrying this request's id, trace, caller and deadline. */
    readonly client: SmartClient;
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
 * carrying the current request's id, trace context, caller and deadline.
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
    app.addHook('onClose', async () => {
      // The Atlas client is closed by its own plugin; here only the connections.
      await smartClient.close();
    });
  },
  { name: 'smart-client' },
);
