import { createBalancer } from './balancer.ts';
import { Ejector } from './ejection.ts';
import { balance, HostGuard } from './layers/balance.ts';
import { bulkhead } from './layers/bulkhead.ts';
import { circuitBreaker } from './layers/circuit-breaker.ts';
import { deadline } from './layers/deadline.ts';
import { eject } from './layers/eject.ts';
import { hedge } from './layers/hedge.ts';
import type { Layer, Send } from './layers/layer.ts';
import { outcome } from './layers/outcome.ts';
import { propagation } from './layers/propagation.ts';
import { resolve } from './layers/resolve.ts';
import { retry } from './layers/retry.ts';
import { attemptSpan, callSpan } from './layers/span.ts';
import { transport } from './layers/transport.ts';
import type { ClientOptions } from './options.ts';
import type { ServiceResolver } from './resolvers.ts';

/**
 * The client's layers, outermost first. Each is `(next) => send`; a call
 * goes down the list and its answer (or failure) comes back up.
 *
 * | layer       | per     | does                                                                  |
 * | ----------- | ------- | --------------------------------------------------------------------- |
 * | callSpan    | call    | the call's span (OpenTelemetry API; a no-op without an SDK)            |
 * | outcome     | call    | `onCall` outcome and time; an uncoded failure becomes UNAVAILABLE      |
 * | deadline    | call    | the call's deadline; fails past it (DEADLINE_EXCEEDED)                  |
 * | circuitBreaker | call | fails fast while the target's circuit is open; counts call outcomes   |
 * | propagation | call    | request id, traceparent/tracestate, caller, deadline headers           |
 * | resolve     | call    | service -> endpoints (synchronous when the resolver is)               |
 * | retry       | call    | turns the call into attempts: first, then retries within the budget   |
 * | hedge       | attempt | a backup attempt (kind `hedge`) when the first is slow                |
 * | attemptSpan | attempt | a span per attempt (kind, instance, outcome); its traceparent          |
 * | bulkhead    | attempt | at most N attempts in flight (and M queued) per target                 |
 * | eject       | attempt | leaves ejected instances out; counts each attempt's outcome           |
 * | balance     | attempt | picks the instance (away from those tried); allowed hosts             |
 * | transport   | attempt | undici (the end of the chain, not a layer)                            |
 *
 * Why this order: the outcome sees every failure, the deadline's among
 * them; headers are set once per call, before any attempt; retries and
 * hedges draw the same budget and each of their attempts is ejected from
 * and balanced anew. The circuit breaker judges whole calls (after their
 * retries) and refuses them before any work; the retry and hedge layers ask
 * it before each extra attempt, and every attempt takes a bulkhead slot, so
 * neither a retry nor a hedge gets around them.
 */
export function defaultLayers(
  options: ClientOptions,
  parts: { resolver: ServiceResolver; realm: string },
): readonly Layer[] {
  const events = options.events;
  return [
    callSpan(options.tracer),
    outcome(events),
    deadline(options.timeoutMs ?? 10_000),
    ...(options.circuitBreaker === false ? [] : [circuitBreaker(options.circuitBreaker ?? {}, events)]),
    propagation(),
    resolve(parts.resolver, parts.realm),
    retry(options.retry ?? {}, events),
    hedge(options.hedge, events),
    attemptSpan(options.tracer),
    ...(options.bulkhead === false ? [] : [bulkhead(options.bulkhead ?? {}, events)]),
    eject(new Ejector(options.ejection), events),
    balance(createBalancer(options.balancing), new HostGuard(options.allowedHosts, options.deniedAddresses)),
  ];
}

/**
 * Composes layers (outermost first) over the last send, as undici's
 * `Dispatcher.compose` does with interceptors.
 *
 * @example
 * const send = compose([outcome(events), deadline(10_000)], transport(agent));
 */
export function compose(layers: readonly Layer[], last: Send): Send {
  let send = last;
  for (let i = layers.length - 1; i >= 0; i--) send = (layers[i] as Layer)(send);
  return send;
}

export { transport };
