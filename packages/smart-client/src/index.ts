/**
 * smart-client: service:// calls that survive their upstreams.
 *
 * @example
 * import { createClient, staticResolver } from 'smart-client';
 * const client = createClient({ resolver: staticResolver({ pricing: ['http://127.0.0.1:3002'] }) });
 * const price = await client.get<{ cost: number }>('service://pricing/price?n=42');
 */
export { type Balancer, createBalancer } from './balancer.ts';
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
  withRetries,
} from './retry.ts';
export { parseServiceUrl, type ServiceTarget } from './service-url.ts';
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
export { childTraceparent } from './trace-context.ts';
