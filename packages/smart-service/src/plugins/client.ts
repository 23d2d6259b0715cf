import type { AtlasClient } from 'atlas-client';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Histogram, Registry } from 'prom-client';
import {
  atlasResolver,
  type CallContext,
  type CircuitState,
  type ClientEvents,
  chainResolver,
  createClient,
  dnsResolver,
  envResolver,
  type SmartClient,
  sidecarResolver,
} from 'smart-client';
import type { Env } from 'smart-config';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from 'smart-protocol';
import { maybeCurrentRequest } from '../context.ts';
import { promClient } from './metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The smart client: `service://` calls carrying this request's id, trace, caller and deadline. */
    readonly client: SmartClient;
  }
}

// The incoming trace context is carried on as is (the client gives each call
// a new parent id). A request that came without one, with tracing off, gives
// its calls none: no trace is invented (a sampled one would make the next
// services sample every call), as OpenTelemetry's propagator injects nothing
// without a span context. With tracing on, each attempt's span gives the header.
function contextOf(request: FastifyRequest | undefined, service: string): CallContext | undefined {
  if (!request) return { caller: service };
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    requestId: request.id,
    traceparent: header(TRACEPARENT_HEADER),
    tracestate: header(TRACESTATE_HEADER),
    caller: service,
    deadline: request.deadline,
  };
}

/** Client metrics on the service's registry, per target service (and outcome). */
function clientMetrics(registry: Registry): ClientEvents {
  const { Counter, Gauge, Histogram } = promClient();
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
  const bulkheadFull = counter('client_bulkhead_rejected_total', 'Attempts refused by a full bulkhead, by target.');
  const circuit = new Gauge<'target' | 'state'>({
    name: 'client_circuit_state',
    help: "Each target's circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.",
    labelNames: ['target', 'state'],
    registers,
  });
  const transitions = new Counter<'target' | 'from' | 'to'>({
    name: 'client_circuit_transitions_total',
    help: "Transitions of each target's circuit breaker, by target, from and to.",
    labelNames: ['target', 'from', 'to'],
    registers,
  });
  const setCircuit = (target: string, current: CircuitState) => {
    for (const state of CIRCUIT_STATES) circuit.set({ target, state }, state === current ? 1 : 0);
  };
  // A target's circuit shows as closed from its first call (it has no transition until it opens).
  const known = new Set<string>();
  // Each (target, outcome)'s labelled child, made at its first call: a call then builds no label
  // object and skips prom-client's label checks (its child still hashes the labels inside).
  const children = new Map<string, Map<string, Histogram.Internal<'target' | 'outcome'>>>();
  const callsOf = (target: string, outcome: string) => {
    let byOutcome = children.get(target);
    if (!byOutcome) {
      byOutcome = new Map();
      children.set(target, byOutcome);
    }
    let child = byOutcome.get(outcome);
    if (!child) {
      child = calls.labels({ target, outcome });
      byOutcome.set(outcome, child);
    }
    return child;
  };
  return {
    onCall: (target, outcome, seconds) => {
      callsOf(target, outcome).observe(seconds);
      if (known.has(target) || known.size >= 1_000) return;
      known.add(target);
      setCircuit(target, 'closed');
    },
    onCircuitState: (target, state, from) => {
      known.add(target);
      setCircuit(target, state);
      transitions.inc({ target, from, to: state });
    },
    onBulkheadFull: (target) => bulkheadFull.inc({ target }),
    onRetry: (target) => retries.inc({ target }),
    onHedge: (target) => hedges.inc({ target }),
    onBudgetExhausted: (target) => exhausted.inc({ target }),
    onEject: (target) => ejections.inc({ target }),
  };
}

/**
 * The client metrics, made at the client's first event (a call ends, a
 * circuit turns...) rather than at start: with them the service's registry
 * and prom-client, which a start need not load (plugins/metrics.ts).
 */
function lazyClientMetrics(registry: () => Registry): ClientEvents {
  let events: ClientEvents | undefined;
  const made = () => {
    events ??= clientMetrics(registry());
    return events;
  };
  return {
    onCall: (target, outcome, seconds) => made().onCall?.(target, outcome, seconds),
    onCircuitState: (target, state, from) => made().onCircuitState?.(target, state, from),
    onBulkheadFull: (target) => made().onBulkheadFull?.(target),
    onRetry: (target) => made().onRetry?.(target),
    onHedge: (target) => made().onHedge?.(target),
    onBudgetExhausted: (target) => made().onBudgetExhausted?.(target),
    onEject: (target, origin) => made().onEject?.(target, origin),
  };
}

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

/** One log line per circuit transition (a warning when it opens), besides the metrics. */
function withCircuitLog(events: ClientEvents, log: FastifyBaseLogger): ClientEvents {
  return {
    ...events,
    onCircuitState(target, state, from) {
      events.onCircuitState?.(target, state, from);
      const line = { target, from, to: state };
      if (state === 'open') log.warn(line, `circuit to ${target} opened: calls to it fail fast`);
      else
        log.info(
          line,
          `circuit to ${target} ${state === 'closed' ? 'closed: calls flow again' : 'half-open: probing'}`,
        );
    },
  };
}

interface ClientPluginOptions {
  readonly env: Env;
  readonly atlasClient: AtlasClient | undefined;
}

/**
 * `app.client`, resolving services from the environment
 * (`SMART_SERVICE_<NAME>_URL`) and then Atlas (when `SMART_ATLAS_URL` is
 * set), or, with `client.via = "sidecar"`, the local smart-sidecar, or with
 * `client.via = "dns"`, DNS records (`client.dns.*`),
 * carrying the current request's id, trace context, caller and deadline.
 */
export const client = fp(
  async function client(app: FastifyInstance, options: ClientPluginOptions) {
    const dnsError = (err: Error) => app.log.warn({ err: { message: err.message } }, 'DNS lookup failed');
    const resolvers = [envResolver(options.env)];
    if (app.config.client.via === 'sidecar') resolvers.push(sidecarResolver(app.config.client.sidecar));
    else if (app.config.client.via === 'dns')
      resolvers.push(dnsResolver({ ...app.config.client.dns, onError: dnsError }));
    else if (options.atlasClient) resolvers.push(atlasResolver(options.atlasClient));
    const smartClient = createClient({
      realm: app.realm,
      resolver: chainResolver(resolvers),
      context: () => contextOf(maybeCurrentRequest(), app.serviceInfo.name),
      // Call and attempt spans under the request's span (plugins/tracing.ts); without it, the API's global tracer.
      ...(app.hasDecorator('tracingEnabled') && app.tracingEnabled ? { tracer: app.tracer } : {}),
      events: withCircuitLog(app.hasDecorator('metrics') ? lazyClientMetrics(() => app.metrics) : {}, app.log),
      // Injected upstream faults (plugins/faults.ts) meet each attempt, just before it is sent.
      ...(app.hasDecorator('faultLayer') ? { layers: (defaults) => [...defaults, app.faultLayer] } : {}),
    });
    app.decorate('client', smartClient);
    app.addHook('onClose', async () => {
      // The Atlas client is closed by its own plugin; here only the connections.
      await smartClient.close();
    });
  },
  { name: 'smart-client' },
);
