import type { Dispatcher } from 'undici';
import { compose, defaultLayers, transport } from './compose.ts';
import { deadlineExceeded, HttpError, type RemoteCause, RemoteError } from './errors.ts';
import type { HedgeOptions } from './hedge.ts';
import { Attempt, Call, type Send } from './layers/layer.ts';
import { LazyAgent } from './lazy-agent.ts';
import {
  type CallContext,
  type CallInit,
  type ClientOptions,
  checkHedge,
  checkOptions,
  type JsonCallOptions,
} from './options.ts';
import { ReadBody } from './read-answer.ts';
import { envResolver, type ServiceResolver } from './resolvers.ts';
import { mayRetry } from './retry.ts';
import { ParsedUrls } from './service-url.ts';
import { Targets } from './targets.ts';

export { CALLER_HEADER, DEADLINE_HEADER } from './headers.ts';
export type { CallContext, CallInit, ClientEvents, ClientOptions, JsonCallOptions } from './options.ts';

const EMPTY_STATUSES = new Set([101, 204, 205, 304]);

/** Lower-case header names in a fresh object the call owns (layers add to it). */
function headersOf(init: CallInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  // A plain object (most callers) needs no Headers instance.
  if (init && Object.getPrototypeOf(init) === Object.prototype) {
    const record = init as Record<string, string>;
    for (const key in record) out[key.toLowerCase()] = String(record[key]);
    return out;
  }
  new Headers(init ?? undefined).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/**
 * The smart client: a fetch-compatible HTTP client that resolves
 * `service://name/path` to a live instance, balances across instances,
 * enforces deadlines and carries request id, trace context, caller and
 * deadline into every call. Each of those is a layer (see `compose.ts`);
 * the client builds the call and sends it down the composed layers.
 *
 * @example
 * const client = createClient({ resolver: atlasResolver(atlas) });
 * const user = await client.get<User>('service://userstore/users/ann');
 * const res = await client.fetch('service://pricing/price?n=42');
 */
export class SmartClient {
  readonly realm: string;
  readonly #resolver: ServiceResolver;
  readonly #agent: LazyAgent;
  readonly #targets: Targets;
  readonly #context: (() => CallContext | undefined) | undefined;
  readonly #send: Send;
  readonly #urls = new ParsedUrls();

  constructor(options: ClientOptions = {}) {
    checkOptions(options);
    this.realm = options.realm ?? process.env.SMART_REALM ?? 'local';
    this.#resolver = options.resolver ?? envResolver();
    // undici is imported at the first call, not here (a service makes its client at start).
    this.#agent = new LazyAgent(options);
    this.#targets = new Targets(options.retry?.budget);
    this.#context = options.context;
    const layers = defaultLayers(options, { resolver: this.#resolver, realm: this.realm });
    this.#send = compose(options.layers ? options.layers(layers) : layers, transport(this.#agent));
  }

  /** Makes the call (its target's state found once, here) without sending it. */
  #call(
    method: string,
    input: string | URL,
    headers: Record<string, string>,
    body: string | Uint8Array | null,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    hedge: HedgeOptions | false | undefined,
    buffered: boolean,
  ): Call {
    const { target, path, origin } = this.#urls.parse(input);
    if (hedge) checkHedge(hedge);
    return new Call(
      {
        method,
        target: this.#targets.get(target),
        path,
        origin,
        headers,
        body,
        signal,
        timeout,
        hedge,
        context: this.#context?.(),
        buffered,
      },
      mayRetry(method, headers),
    );
  }

  /** The WHATWG fetch signature and a standard `Response`; error statuses are returned, not thrown. */
  async fetch(input: string | URL, init: CallInit = {}): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const call = this.#call(
      method,
      input,
      headersOf(init.headers),
      init.body ?? null,
      init.signal ?? undefined,
      init.timeout,
      init.hedge,
      false,
    );
    const response = await this.#send(new Attempt(call, 'first', 1));
    const headers = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(key, item);
      else if (value !== undefined) headers.set(key, value);
    }
    const empty = EMPTY_STATUSES.has(response.statusCode);
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
    // The call's headers, built once, lower-case: the JSON defaults, the caller's, then the body's type.
    const headers: Record<string, string> = { accept: 'application/json' };
    const extra = options.headers;
    if (extra) for (const key in extra) headers[key.toLowerCase()] = String(extra[key]);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const call = this.#call(
      method,
      input,
      headers,
      body === undefined ? null : JSON.stringify(body),
      options.signal,
      options.timeout,
      options.hedge,
      true,
    );
    const response = await this.#send(new Attempt(call, 'first', 1));
    // The transport read the body whole (a `ReadBody`); a layer of the caller's may answer with a stream.
    const read = response.body as unknown;
    const text = read instanceof ReadBody ? read.textNow() : await readText(response, call, options.signal);
    return answerOf<T>(response, text, call, input);
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

/** An answer's body as text, read from its stream (an answer a layer of the caller's made). */
async function readText(
  response: Dispatcher.ResponseData,
  call: Call,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    return await response.body.text();
  } catch (err) {
    // The body stalled past the deadline: undici's body timer, or the call's own deadline timer, cut it.
    const code = (err as { code?: string }).code;
    if (code === 'UND_ERR_BODY_TIMEOUT' || (Date.now() >= call.deadline && !signal?.aborted))
      throw deadlineExceeded(`reading the answer of ${call.service}`);
    throw err;
  }
}

/** The JSON helpers' answer: parsed, or a `RemoteError` / `HttpError` for an error status. */
function answerOf<T>(response: Dispatcher.ResponseData, text: string, call: Call, input: string | URL): T {
  const type = String(response.headers['content-type'] ?? '');
  if (response.statusCode < 300 && type.includes('json')) return JSON.parse(text) as T;
  if (response.statusCode >= 400) {
    if (type.startsWith('application/problem+json')) {
      const problem = JSON.parse(text) as Partial<RemoteCause> & { title?: string };
      throw new RemoteError({
        service: problem.service ?? call.service,
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

/**
 * Creates a smart client; every option is checked here
 * (`SMART_CLIENT_INVALID_OPTION`), none on the first call.
 *
 * @example
 * const client = createClient({ resolver: staticResolver({ pricing: ['http://127.0.0.1:3002'] }), hedge: { percentile: 95 } });
 */
export function createClient(options: ClientOptions = {}): SmartClient {
  return new SmartClient(options);
}
