import { Agent, type Dispatcher } from 'undici';
import { type Balancer, createBalancer } from './balancer.ts';
import { type EjectionOptions, Ejector } from './ejection.ts';
import {
  codes,
  deadlineExceeded,
  HttpError,
  noInstances,
  notAllowed,
  type RemoteCause,
  RemoteError,
  SmartClientError,
  unavailable,
} from './errors.ts';
import { type HedgeOptions, hedged, LatencyWindow } from './hedge.ts';
import { envResolver, isPromise, type ServiceResolver } from './resolvers.ts';
import { isRetryableError, isRetryableStatus, mayRetry, RetryBudget, type RetryOptions, withRetries } from './retry.ts';
import { parseServiceUrl } from './service-url.ts';
import { childTraceparent } from './trace-context.ts';

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

/** What the client reports, per target service (smart-service turns these into metrics). */
export interface ClientEvents {
  /** A call ended: `ok` (any answer below 500), `error` (5xx), `unavailable`, `deadline`, or `refused` (bad URL, no instance, not allowed). */
  onCall?(target: string, outcome: 'ok' | 'error' | 'unavailable' | 'deadline' | 'refused', seconds: number): void;
  onRetry?(target: string): void;
  onHedge?(target: string): void;
  onBudgetExhausted?(target: string): void;
  onEject?(target: string, origin: string): void;
}

/** Options of `createClient`. */
export interface ClientOptions {
  /** The realm to resolve services in; default `SMART_REALM`, then `local`. */
  readonly realm?: string;
  /** How `service://` names are resolved; default the environment (`SMART_SERVICE_<NAME>_URL`). */
  readonly resolver?: ServiceResolver;
  /**
   * Hosts a call may reach (names, or patterns). Default: any host but
   * link-local addresses (169.254.0.0/16, fe80::/10), where cloud metadata
   * services live; a poisoned registry entry cannot point a call there.
   */
  readonly allowedHosts?: readonly (string | RegExp)[];
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
  /** Told of every call, retry, hedge, budget exhaustion and ejection. */
  readonly events?: ClientEvents;
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

export const DEADLINE_HEADER = 'x-smart-deadline';
// undici's fast timers may fire up to ~0.5 s early: its timeouts get this much slack past the deadline.
const UNDICI_TIMER_SLACK_MS = 1_000;
export const CALLER_HEADER = 'x-smart-caller';

const isLinkLocal = (host: string) => /^169\.254\./.test(host) || /^\[?fe[89ab][0-9a-f]:/i.test(host);

function headersOf(init: CallInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  // A plain object (the JSON helpers, most callers) needs no Headers instance.
  if (init && Object.getPrototypeOf(init) === Object.prototype) {
    for (const [key, value] of Object.entries(init as Record<string, string>)) out[key.toLowerCase()] = String(value);
    return out;
  }
  new Headers(init ?? undefined).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

interface Sent {
  readonly response: Dispatcher.ResponseData;
  readonly target: string;
  /** The call's deadline, epoch ms: reading the body is bound by it too. */
  readonly deadline: number;
}

/**
 * The smart client: a fetch-compatible HTTP client that resolves
 * `service://name/path` to a live instance, balances across instances,
 * enforces deadlines and carries request id, trace context, caller and
 * deadline into every call.
 *
 * @example
 * const client = createClient({ resolver: atlasResolver(atlas) });
 * const user = await client.get<User>('service://userstore/users/ann');
 * const res = await client.fetch('service://pricing/price?n=42');
 */
export class SmartClient {
  readonly realm: string;
  readonly #resolver: ServiceResolver;
  readonly #agent: Agent;
  readonly #balancer: Balancer;
  readonly #options: ClientOptions;
  readonly #budgets = new Map<string, RetryBudget>();
  readonly #ejector: Ejector;
  readonly #latencies = new Map<string, LatencyWindow>();
  readonly #targetOf = new Map<string, string>();
  readonly #allowedOrigins = new Map<string, boolean>();

  constructor(options: ClientOptions = {}) {
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new SmartClientError(codes.invalidOption, 500, 'timeoutMs must be a positive number of milliseconds');
    }
    this.#options = options;
    this.realm = options.realm ?? process.env.SMART_REALM ?? 'local';
    this.#resolver = options.resolver ?? envResolver();
    this.#agent = new Agent({ connections: options.connections ?? 128, keepAliveTimeout: 30_000 });
    this.#balancer = createBalancer(options.balancing);
    this.#ejector = new Ejector(options.ejection, (origin) =>
      options.events?.onEject?.(this.#targetOf.get(origin) ?? origin, origin),
    );
  }

  #allowed(origin: string): boolean {
    let allowed = this.#allowedOrigins.get(origin);
    if (allowed === undefined) {
      const host = new URL(origin).hostname;
      const list = this.#options.allowedHosts;
      allowed = list
        ? list.some((pattern) => (typeof pattern === 'string' ? pattern === host : pattern.test(host)))
        : !isLinkLocal(host);
      // Origins come from resolvers and callers: bound the cache.
      if (this.#allowedOrigins.size > 4_096) this.#allowedOrigins.clear();
      this.#allowedOrigins.set(origin, allowed);
    }
    return allowed;
  }

  async #send(method: string, input: string | URL, init: CallInit): Promise<Sent> {
    const events = this.#options.events;
    const callStarted = performance.now();
    const target = parseServiceUrl(input);
    const context = this.#options.context?.();
    const now = Date.now();
    const deadline = Math.min(
      now + (init.timeout ?? this.#options.timeoutMs ?? 10_000),
      context?.deadline ?? Number.POSITIVE_INFINITY,
    );
    const name = target?.service ?? new URL(String(input)).origin;
    // A call whose deadline has passed fails here, before any socket opens.
    if (deadline <= now) throw deadlineExceeded(`before calling ${name}`);

    // Resolvers answer from memory once warm: await only a real promise.
    const resolved = target ? this.#resolver.resolve(target.service, this.realm) : undefined;
    const endpoints = isPromise(resolved) ? await resolved : resolved;
    if (target && (!endpoints || endpoints.length === 0)) throw noInstances(target.service, this.realm);

    const headers = headersOf(init.headers);
    if (context?.requestId) headers['x-request-id'] ??= context.requestId;
    headers.traceparent ??= childTraceparent(context?.traceparent);
    if (context?.tracestate) headers.tracestate ??= context.tracestate;
    if (context?.caller) headers[CALLER_HEADER] ??= context.caller;
    headers[DEADLINE_HEADER] = String(deadline);

    // A deadline under 2 s gets a precise timer of its own. One further off
    // rides on undici's timers (cheap, but coarse: they tick every ~0.5 s and
    // may fire up to a tick EARLY), so undici is given a second of slack past
    // the deadline: a call then ends up to ~1 s after a far deadline, never
    // before it.
    const precise = deadline - Date.now() < 2_000 ? AbortSignal.timeout(Math.max(1, deadline - Date.now())) : undefined;
    const signal = init.signal && precise ? AbortSignal.any([init.signal, precise]) : (init.signal ?? precise);
    const timedOut = (err: unknown) => {
      const code = (err as { code?: string }).code;
      return (
        precise?.aborted ||
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT' ||
        Date.now() >= deadline
      );
    };

    // One attempt: the least loaded instance this call has not tried yet.
    const attempt = async (tried: Set<string>, hedgeSignal?: AbortSignal) => {
      const endpoint = endpoints ? this.#balancer.pick(this.#ejector.available(endpoints), tried) : undefined;
      const url = endpoint ? undefined : new URL(String(input));
      const origin = endpoint?.origin ?? (url as URL).origin;
      const path = target ? target.path : `${(url as URL).pathname}${(url as URL).search}`;
      if (!this.#allowed(origin)) throw notAllowed(origin);
      if (endpoint) {
        this.#targetOf.set(origin, name);
        this.#balancer.start(endpoint);
      }
      try {
        const started = performance.now();
        const remaining = Math.max(1, deadline - Date.now()) + UNDICI_TIMER_SLACK_MS;
        const combined = hedgeSignal && signal ? AbortSignal.any([signal, hedgeSignal]) : (hedgeSignal ?? signal);
        const options: Dispatcher.RequestOptions = {
          origin,
          path,
          method: method as Dispatcher.HttpMethod,
          headers,
          body: init.body ?? null,
          headersTimeout: remaining,
          bodyTimeout: remaining,
        };
        if (combined) options.signal = combined;
        const response = await this.#agent.request(options);
        this.#latencyFor(name).add(performance.now() - started);
        if (isRetryableStatus(response.statusCode)) this.#ejector.failed(origin, endpoints);
        else this.#ejector.succeeded(origin);
        return { response, origin };
      } catch (err) {
        if (isRetryableError(err)) this.#ejector.failed(origin, endpoints);
        throw Object.assign(err as Error, { origin });
      } finally {
        if (endpoint) this.#balancer.finish(endpoint);
      }
    };

    const retryable = mayRetry(method, headers);
    const hedge = init.hedge === false ? undefined : (init.hedge ?? this.#options.hedge);
    const hedgeDelay =
      hedge && retryable
        ? (hedge.delayMs ?? (hedge.percentile ? this.#latencyFor(name).percentile(hedge.percentile) : undefined))
        : undefined;
    const budget = this.#budgetFor(name);
    const run =
      hedgeDelay === undefined
        ? (tried: Set<string>) => attempt(tried)
        : (tried: Set<string>) => hedged(attempt, tried, hedgeDelay, budget, () => events?.onHedge?.(name));

    try {
      const { response } = await withRetries(run, {
        retryable,
        deadline,
        budget,
        options: this.#options.retry ?? {},
        events: { onRetry: () => events?.onRetry?.(name), onBudgetExhausted: () => events?.onBudgetExhausted?.(name) },
      });
      events?.onCall?.(name, response.statusCode >= 500 ? 'error' : 'ok', (performance.now() - callStarted) / 1000);
      return { response, target: name, deadline };
    } catch (err) {
      const failure =
        err instanceof SmartClientError
          ? err
          : timedOut(err)
            ? deadlineExceeded(`calling ${name}`)
            : init.signal?.aborted
              ? err
              : unavailable(name, err);
      const code = (failure as { code?: string }).code;
      const outcome = code === codes.deadline ? 'deadline' : code === codes.notAllowed ? 'refused' : 'unavailable';
      events?.onCall?.(name, outcome, (performance.now() - callStarted) / 1000);
      throw failure;
    }
  }

  #latencyFor(target: string): LatencyWindow {
    let window = this.#latencies.get(target);
    if (!window) {
      window = new LatencyWindow();
      this.#latencies.set(target, window);
    }
    return window;
  }

  #budgetFor(target: string): RetryBudget {
    let budget = this.#budgets.get(target);
    if (!budget) {
      budget = new RetryBudget(this.#options.retry?.budget);
      this.#budgets.set(target, budget);
    }
    return budget;
  }

  /** The WHATWG fetch signature and a standard `Response`; error statuses are returned, not thrown. */
  async fetch(input: string | URL, init: CallInit = {}): Promise<Response> {
    const { response } = await this.#send((init.method ?? 'GET').toUpperCase(), input, init);
    const headers = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(key, item);
      else if (value !== undefined) headers.set(key, value);
    }
    const empty = [101, 204, 205, 304].includes(response.statusCode);
    if (empty) response.body.resume();
    return new Response(empty ? null : (response.body as unknown as ReadableStream), {
      status: response.statusCode,
      headers,
    });
  }

  /**
   * A JSON call: sends `body` as JSON, parses the answer, and throws a
   * `RemoteError` for a problem+json error (an `HttpError` for others).
   */
  async request<T = unknown>(
    method: string,
    input: string | URL,
    body?: unknown,
    options: JsonCallOptions = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { response, target, deadline } = await this.#send(method, input, {
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.hedge !== undefined ? { hedge: options.hedge } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const type = String(response.headers['content-type'] ?? '');
    let text: string;
    try {
      if (response.statusCode < 300 && type.includes('json')) return (await response.body.json()) as T;
      text = await response.body.text();
    } catch (err) {
      // The body stalled past the deadline: undici's body timer, or the call's own deadline timer, cut it.
      const code = (err as { code?: string }).code;
      if (code === 'UND_ERR_BODY_TIMEOUT' || (Date.now() >= deadline && !options.signal?.aborted))
        throw deadlineExceeded(`reading the answer of ${target}`);
      throw err;
    }
    if (response.statusCode >= 400) {
      if (type.startsWith('application/problem+json')) {
        const problem = JSON.parse(text) as Partial<RemoteCause> & { title?: string };
        throw new RemoteError({
          service: problem.service ?? target,
          status: response.statusCode,
          code: problem.code ?? `HTTP_${response.statusCode}`,
          detail: problem.detail ?? problem.title ?? '',
          requestId: problem.requestId ?? (response.headers['x-request-id'] as string | undefined),
          ...(problem.cause ? { cause: problem.cause } : {}),
        });
      }
      throw new HttpError(String(input), response.statusCode, text.slice(0, 1_000));
    }
    if (!text) return undefined as T;
    return (type.includes('json') ? JSON.parse(text) : text) as T;
  }

  get<T = unknown>(url: string | URL, options?: JsonCallOptions) {
    return this.request<T>('GET', url, undefined, options);
  }
  post<T = unknown>(url: string | URL, body?: unknown, options?: JsonCallOptions) {
    return this.request<T>('POST', url, body, options);
  }
  put<T = unknown>(url: string | URL, body?: unknown, options?: JsonCallOptions) {
    return this.request<T>('PUT', url, body, options);
  }
  patch<T = unknown>(url: string | URL, body?: unknown, options?: JsonCallOptions) {
    return this.request<T>('PATCH', url, body, options);
  }
  delete<T = unknown>(url: string | URL, options?: JsonCallOptions) {
    return this.request<T>('DELETE', url, undefined, options);
  }

  /** Runs calls at once and waits for all; rejects with the first failure (the rest still finish). */
  async all<T extends readonly (() => Promise<unknown>)[]>(
    calls: T,
  ): Promise<{ [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
    return Promise.all(calls.map((call) => call())) as Promise<{ [K in keyof T]: Awaited<ReturnType<T[K]>> }>;
  }

  /** Closes connections and the resolver's watches. */
  async close(): Promise<void> {
    await this.#resolver.close?.();
    await this.#agent.close();
  }
}

/** Creates a smart client. */
export function createClient(options: ClientOptions = {}): SmartClient {
  if (options.allowedHosts && !Array.isArray(options.allowedHosts)) {
    throw new SmartClientError(codes.invalidOption, 500, 'allowedHosts must be an array of host names or patterns');
  }
  return new SmartClient(options);
}
