import type { AtlasClient } from 'atlas-client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  atlasResolver,
  type CallContext,
  type ClientEvents,
  chainResolver,
  createClient,
  envResolver,
  newTraceparent,
  type SmartClient,
} from 'smart-client';
import type { Env } from 'smart-config';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from 'smart-protocol';
import { maybeCurrentRequest } from '../context.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The smart client: `service://` calls carrying this request's id, trace, caller and deadline. */
    readonly client: SmartClient;
  }
}

// A request that came without `traceparent` gets one trace for all its calls
// (made at its first call), so parallel calls share a trace id even with
// tracing off. With tracing on, each attempt's span gives the header instead.
const rootTraces = new WeakMap<FastifyRequest, string>();
function rootTraceparent(request: FastifyRequest): string {
  let root = rootTraces.get(request);
  if (!root) {
    root = newTraceparent();
    rootTraces.set(request, root);
  }
  return root;
}

function contextOf(request: FastifyRequest | undefined, service: string): CallContext | undefined {
  if (!request) return { caller: service };
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    requestId: request.id,
    traceparent: header(TRACEPARENT_HEADER) ?? rootTraceparent(request),
    tracestate: header(TRACESTATE_HEADER),
    caller: service,
    deadline: request.deadline,
  };
}

/** Client metrics on the service's registry, per target service (and outcome). */
function clientMetrics(registry: Registry): ClientEvents {
  const registers = [registry];
  const calls = new Histogram<'target' | 'outcome'>({
    name: 'client_call_duration_seconds',
    help: 'Calls to other services, by target and outcome (ok, error, unavailable, deadline, refused); _count is the number of calls.',
    labelNames: ['target', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const counter = (name: string, help: string) =>
    new Counter<'target'>({ name, help, labelNames: ['target'], registers });
  const retries = counter('client_retries_total', 'Retries of calls, by target.');
  const hedges = counter('client_hedges_total', 'Hedged (backup) requests sent, by target.');
  const exhausted = counter(
    'client_retry_budget_exhausted_total',
    'Retries or hedges refused by the retry budget, by target.',
  );
  const ejections = counter('client_ejections_total', 'Instances ejected as outliers, by target.');
  return {
    onCall: (target, outcome, seconds) => calls.observe({ target, outcome }, seconds),
    onRetry: (target) => retries.inc({ target }),
    onHedge: (target) => hedges.inc({ target }),
    onBudgetExhausted: (target) => exhausted.inc({ target }),
    onEject: (target) => ejections.inc({ target }),
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
      // Call and attempt spans under the request's span (plugins/tracing.ts); without it, the API's global tracer.
      ...(app.hasDecorator('tracingEnabled') && app.tracingEnabled ? { tracer: app.tracer } : {}),
      ...(app.hasDecorator('metrics') ? { events: clientMetrics(app.metrics) } : {}),
    });
    app.decorate('client', smartClient);
    app.addHook('onClose', async () => {
      // The Atlas client is closed by its own plugin; here only the connections.
      await smartClient.close();
    });
  },
  { name: 'smart-client' },
);
