import type { Tracer } from '@opentelemetry/api';
import { isCidr } from './address-policy.ts';
import type { BulkheadOptions, BulkheadSettings } from './bulkhead.ts';
import type { CircuitBreakerOptions, CircuitBreakerSettings, CircuitState } from './circuit-breaker.ts';
import type { EjectionOptions } from './ejection.ts';
import { codes, SmartClientError } from './errors.ts';
import type { HedgeOptions } from './hedge.ts';
import type { Layer } from './layers/layer.ts';
import type { ServiceResolver } from './resolvers.ts';
import type { RetryOptions } from './retry.ts';

/** Headers every call made inside a request carries on. */
export interface CallContext {
  readonly requestId?: string | undefined;
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /** The calling service's name (`x-smart-caller`). */
  readonly caller?: string | undefined;
  /** The incoming request's deadline, epoch ms. */
  readonly deadline?: number | undefined;
}

/** What a call ended as (see `ClientEvents.onCall`). */
export type CallOutcome = 'ok' | 'error' | 'unavailable' | 'deadline' | 'refused';

/** What the client reports, per target service (smart-service turns these into metrics). */
export interface ClientEvents {
  /** A call ended: `ok` (any answer below 500), `error` (5xx), `unavailable`, `deadline`, or `refused` (no instance, not allowed, circuit open, bulkhead full). */
  onCall?(target: string, outcome: CallOutcome, seconds: number): void;
  onRetry?(target: string): void;
  onHedge?(target: string): void;
  /** A retry or a hedge was refused by the target's retry budget (a hedge also by its `maxExtraLoad` share). */
  onBudgetExhausted?(target: string): void;
  onEject?(target: string, origin: string): void;
  /** The target's circuit went from `from` to `state` (once per transition). */
  onCircuitState?(target: string, state: CircuitState, from: CircuitState): void;
  /** An attempt was refused by the target's full bulkhead. */
  onBulkheadFull?(target: string): void;
}

/** Options of `createClient`. */
export interface ClientOptions {
  /** The realm to resolve services in; default `SMART_REALM`, then `local`. */
  readonly realm?: string;
  /** How `service://` names are resolved; default the environment (`SMART_SERVICE_<NAME>_URL`). */
  readonly resolver?: ServiceResolver;
  /**
   * Hosts a call may reach: names, RegExps, or networks (`10.0.0.0/8`,
   * `fd00::/8`). Default: any host whose address is not denied. When
   * networks are listed, a name's resolved addresses must be in one.
   */
  readonly allowedHosts?: readonly (string | RegExp)[];
  /**
   * Addresses no call connects to (CIDRs), checked on the address actually
   * connected to, after DNS, in every IPv6 spelling. Default
   * `DEFAULT_DENIED_ADDRESSES`: link-local (169.254.0.0/16, fe80::/10, where
   * cloud metadata services live), unspecified, multicast and their mapped
   * forms; a poisoned registry entry cannot point a call there.
   */
  readonly deniedAddresses?: readonly string[];
  /** A call's timeout when it names none. Default 10 s. */
  readonly timeoutMs?: number;
  /** Supplies the current request's headers to carry on (smart-service sets it). */
  readonly context?: () => CallContext | undefined;
  /** `p2c` (power of two choices on outstanding requests, default) or `round-robin`. */
  readonly balancing?: 'p2c' | 'round-robin';
  /** Connections kept per upstream origin. Default 128. */
  readonly connections?: number;
  /** Retries: attempts, back-off and the budget per target service. */
  readonly retry?: RetryOptions;
  /** Outlier ejection: consecutive failures and the ejection time. */
  readonly ejection?: EjectionOptions;
  /** Hedged requests for every idempotent call (off by default). */
  readonly hedge?: HedgeOptions;
  /** A circuit breaker per target service (on by default; `false`: none). */
  readonly circuitBreaker?: CircuitBreakerOptions | false;
  /** A bulkhead per target service (on by default, 1024 in flight and 64 queued; `false`: none). */
  readonly bulkhead?: BulkheadOptions | false;
  /** Told of every call, retry, hedge, budget exhaustion and ejection. */
  readonly events?: ClientEvents;
  /**
   * The OpenTelemetry tracer of the call and attempt spans; default the API's
   * global one (a no-op unless an SDK is registered). smart-service gives its own.
   */
  readonly tracer?: Tracer;
  /**
   * Rearranges the client's layers: receives the default ones in order
   * (outermost first) and returns the list to compose. For adding a layer of
   * your own, or leaving one out (the bench does, to price each).
   *
   * @example
   * createClient({ layers: (defaults) => defaults.filter((layer) => layer.name !== 'hedge') })
   */
  readonly layers?: (defaults: readonly Layer[]) => readonly Layer[];
}

/** `RequestInit` plus a per-call timeout. */
export interface CallInit extends Omit<RequestInit, 'body'> {
  readonly body?: string | Uint8Array | null;
  /** This call's timeout in ms (the incoming request's deadline still applies). */
  readonly timeout?: number;
  /** Hedge this call (or `false`: not even when the client hedges). */
  readonly hedge?: HedgeOptions | false;
}

/** Options of the JSON helpers. */
export interface JsonCallOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeout?: number;
  readonly hedge?: HedgeOptions | false;
  readonly signal?: AbortSignal;
}

const invalid = (why: string) => new SmartClientError(codes.invalidOption, 500, why);

function positive(value: number | undefined, name: string, integer = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value)) || value === Infinity) {
    throw invalid(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
}

function atLeastZero(value: number | undefined, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
    throw invalid(`${name} must be a finite number >= 0`);
  }
}

/**
 * Checks hedge options (the client's, or one call's): a delay >= 0 or a
 * percentile in (0, 100).
 */
export function checkHedge(hedge: HedgeOptions | false | undefined, name = 'hedge'): void {
  if (hedge === undefined || hedge === false) return;
  if (typeof hedge !== 'object' || hedge === null) throw invalid(`${name} must be an object or false`);
  atLeastZero(hedge.delayMs, `${name}.delayMs`);
  if (hedge.percentile !== undefined && !(hedge.percentile > 0 && hedge.percentile < 100)) {
    throw invalid(`${name}.percentile must be between 0 and 100`);
  }
  if (hedge.delayMs === undefined && hedge.percentile === undefined) {
    throw invalid(`${name} needs delayMs or percentile`);
  }
  if (hedge.maxExtraLoad !== undefined && !(hedge.maxExtraLoad > 0 && hedge.maxExtraLoad <= 1)) {
    throw invalid(`${name}.maxExtraLoad must be in (0, 1]`);
  }
  if (hedge.cancelLoser !== undefined && typeof hedge.cancelLoser !== 'boolean') {
    throw invalid(`${name}.cancelLoser must be a boolean`);
  }
}

function checkBreakerSettings(s: CircuitBreakerSettings, name: string): void {
  if (typeof s !== 'object' || s === null) throw invalid(`${name} must be an object`);
  const rate = s.failureRateThreshold;
  if (rate !== undefined && !(rate > 0 && rate <= 100))
    throw invalid(`${name}.failureRateThreshold must be in (0, 100]`);
  const window = s.slidingWindow;
  if (window !== undefined) {
    if (window?.type === 'count') positive(window.size, `${name}.slidingWindow.size`, true);
    else if (window?.type === 'time') positive(window.seconds, `${name}.slidingWindow.seconds`, true);
    else throw invalid(`${name}.slidingWindow must be { type: 'count', size } or { type: 'time', seconds }`);
  }
  positive(s.minimumNumberOfCalls, `${name}.minimumNumberOfCalls`, true);
  positive(s.waitDurationInOpenStateMs, `${name}.waitDurationInOpenStateMs`);
  positive(s.permittedNumberOfCallsInHalfOpenState, `${name}.permittedNumberOfCallsInHalfOpenState`, true);
}

function checkCircuitBreaker(options: CircuitBreakerOptions | false | undefined): void {
  if (options === undefined || options === false) return;
  checkBreakerSettings(options, 'circuitBreaker');
  for (const [target, settings] of Object.entries(options.targets ?? {}))
    checkBreakerSettings(settings, `circuitBreaker.targets.${target}`);
}

function checkBulkhead(options: BulkheadOptions | false | undefined): void {
  if (options === undefined || options === false) return;
  const check = (s: BulkheadSettings, name: string) => {
    if (typeof s !== 'object' || s === null) throw invalid(`${name} must be an object`);
    positive(s.maxConcurrent, `${name}.maxConcurrent`, true);
    if (s.maxQueue !== undefined && !(Number.isInteger(s.maxQueue) && s.maxQueue >= 0))
      throw invalid(`${name}.maxQueue must be an integer >= 0`);
  };
  check(options, 'bulkhead');
  for (const [target, settings] of Object.entries(options.targets ?? {})) check(settings, `bulkhead.targets.${target}`);
}

/**
 * Every option checked once, when the client is made: a mistake fails
 * `createClient` with `SMART_CLIENT_INVALID_OPTION` naming the option, not
 * the first call that happens to read it.
 */
export function checkOptions(options: ClientOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  positive(options.timeoutMs, 'timeoutMs');
  if (options.allowedHosts !== undefined) {
    const list = options.allowedHosts;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' || item instanceof RegExp)) {
      throw invalid('allowedHosts must be an array of host names, patterns or networks');
    }
  }
  if (options.balancing !== undefined && options.balancing !== 'p2c' && options.balancing !== 'round-robin') {
    throw invalid(`balancing must be 'p2c' or 'round-robin', not ${JSON.stringify(options.balancing)}`);
  }
  positive(options.connections, 'connections', true);
  if (options.resolver !== undefined && typeof options.resolver?.resolve !== 'function') {
    throw invalid('resolver must have a resolve(service, realm) method');
  }
  if (options.tracer !== undefined && typeof options.tracer?.startSpan !== 'function')
    throw invalid('tracer must be an OpenTelemetry Tracer (with startSpan)');
  if (options.context !== undefined && typeof options.context !== 'function')
    throw invalid('context must be a function');
  if (options.layers !== undefined && typeof options.layers !== 'function') throw invalid('layers must be a function');
  const retry = options.retry;
  if (retry) {
    positive(retry.maxAttempts, 'retry.maxAttempts', true);
    atLeastZero(retry.baseMs, 'retry.baseMs');
    atLeastZero(retry.capMs, 'retry.capMs');
    atLeastZero(retry.budget?.percent, 'retry.budget.percent');
    atLeastZero(retry.budget?.minPerSecond, 'retry.budget.minPerSecond');
    positive(retry.budget?.ttlSeconds, 'retry.budget.ttlSeconds');
  }
  if (options.deniedAddresses !== undefined) {
    const list = options.deniedAddresses;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && isCidr(item)))
      throw invalid('deniedAddresses must be an array of CIDRs (169.254.0.0/16) or addresses');
  }
  checkCircuitBreaker(options.circuitBreaker);
  checkBulkhead(options.bulkhead);
  positive(options.ejection?.consecutiveFailures, 'ejection.consecutiveFailures', true);
  positive(options.ejection?.baseMs, 'ejection.baseMs');
  checkHedge(options.hedge);
}
