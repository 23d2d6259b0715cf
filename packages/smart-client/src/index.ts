/**
 * smart-client: service:// calls that survive their upstreams.
 *
 * @example
 * import { createClient, staticResolver } from 'smart-client';
 * const client = createClient({ resolver: staticResolver({ pricing: ['http://127.0.0.1:3002'] }) });
 * const price = await client.get<{ cost: number }>('service://pricing/price?n=42');
 */
export { AddressPolicy, DEFAULT_DENIED_ADDRESSES } from './address-policy.ts';
export { type Balancer, createBalancer } from './balancer.ts';
export { BULKHEAD_DEFAULTS, Bulkhead, type BulkheadOptions, type BulkheadSettings } from './bulkhead.ts';
export {
  CIRCUIT_BREAKER_DEFAULTS,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerSettings,
  type CircuitState,
} from './circuit-breaker.ts';
export { compose, defaultLayers } from './compose.ts';
export { type DnsResolverOptions, dnsResolver } from './dns-resolver.ts';
export { type EjectionOptions, Ejector } from './ejection.ts';
export {
  codes,
  errorCodes,
  HttpError,
  type RemoteCause,
  RemoteError,
  SmartClientError,
} from './errors.ts';
export { type HedgeOptions, hedged, LatencyWindow } from './hedge.ts';
export { balance, HostGuard } from './layers/balance.ts';
export { bulkhead } from './layers/bulkhead.ts';
export { circuitBreaker } from './layers/circuit-breaker.ts';
export { deadline } from './layers/deadline.ts';
export { eject } from './layers/eject.ts';
export { hedge } from './layers/hedge.ts';
export { Attempt, type AttemptKind, Call, type CallInput, type Layer, type Send } from './layers/layer.ts';
export { outcome } from './layers/outcome.ts';
export { propagation } from './layers/propagation.ts';
export { resolve } from './layers/resolve.ts';
export { retry } from './layers/retry.ts';
export { attemptSpan, callSpan } from './layers/span.ts';
export { type RequestDispatcher, transport } from './layers/transport.ts';
export { LazyAgent } from './lazy-agent.ts';
export type { CallOutcome } from './options.ts';
export { ReadBody, readAnswer } from './read-answer.ts';
export {
  atlasResolver,
  chainResolver,
  type Endpoint,
  envResolver,
  type ServiceResolver,
  staticResolver,
} from './resolvers.ts';
export {
  isRetryableError,
  isRetryableStatus,
  mayRetry,
  RetryBudget,
  type RetryOptions,
  retryAfterMs,
  withRetries,
} from './retry.ts';
export { parseServiceUrl, type ServiceTarget } from './service-url.ts';
export { type SidecarResolverOptions, sidecarResolver } from './sidecar-resolver.ts';
export {
  CALLER_HEADER,
  type CallContext,
  type CallInit,
  type ClientEvents,
  type ClientOptions,
  createClient,
  DEADLINE_HEADER,
  type JsonCallOptions,
  SmartClient,
} from './smart-client.ts';
export { Target, Targets } from './targets.ts';
export { childTraceparent, continueTraceparent, newTraceparent, traceparentOf } from './trace-context.ts';
