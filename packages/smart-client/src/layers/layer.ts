import type { Dispatcher } from 'undici';
import type { HedgeOptions } from '../hedge.ts';
import type { CallContext } from '../options.ts';
import type { Endpoint } from '../resolvers.ts';
import type { Target } from '../targets.ts';

/**
 * Why an attempt was made: the call's `first`, a `retry` after a failed one,
 * or a `hedge` (a backup sent while an earlier attempt is still running).
 */
export type AttemptKind = 'first' | 'retry' | 'hedge';

/** The options a call was made with, as the client hands them to the layers. */
export interface CallInput {
  readonly method: string;
  readonly target: Target;
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** The origin of a plain `http(s)://` call (it resolves to nothing else); undefined for `service://`. */
  readonly origin: string | undefined;
  /** Lower-case names; owned by the call (layers add to it). */
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | null;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly hedge: HedgeOptions | false | undefined;
  readonly context: CallContext | undefined;
  /** The answer is read whole before the call answers (the JSON helpers); `fetch` streams it. Default false. */
  readonly buffered?: boolean;
}

/**
 * One call, as every layer sees it: what the caller asked for, and what the
 * call-level layers have worked out so far (the deadline, the endpoints).
 * One object per call, shared by its attempts.
 *
 * @example
 * // In a layer: the target service's name and state, and the call's deadline.
 * const { target, deadline } = attempt.call;
 */
export class Call {
  readonly method: string;
  /** The target service (or, for a plain URL, its origin) and its per-target state. */
  readonly target: Target;
  readonly path: string;
  readonly origin: string | undefined;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | null;
  /** The caller's own signal (its abort is the caller's, never a failure). */
  readonly callerSignal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly hedge: HedgeOptions | false | undefined;
  readonly context: CallContext | undefined;
  /** An idempotent method, or a request with an `idempotency-key`: it may be retried and hedged. */
  readonly retryable: boolean;
  /**
   * The answer reaches the layers with its body read whole (a `ReadBody`,
   * see read-answer.ts): the JSON helpers' calls. A `fetch` call's answer
   * comes with its headers, the body still streaming.
   */
  readonly buffered: boolean;
  /** When the call was made (epoch ms): its timeout counts from here, whatever the layers above the deadline take. */
  readonly madeAt = Date.now();
  /** Epoch ms; set by the deadline layer (unbounded without it). */
  deadline = Number.POSITIVE_INFINITY;
  /** The deadline's own timer, when the deadline is near enough to need one. */
  deadlineSignal: AbortSignal | undefined;
  /** The caller's signal, combined by the deadline layer with the deadline's own timer. */
  signal: AbortSignal | undefined;
  /** The live endpoints, set by the resolve layer (undefined for a plain URL). */
  endpoints: readonly Endpoint[] | undefined;
  /** Attempts made so far. */
  attempts = 1;
  /**
   * Set by the call-span layer: false when the call has no trace to carry
   * (no SDK registered, no trace in the context), so per-attempt spans
   * would be no-ops too and are not started. Undefined without that layer.
   */
  traced: boolean | undefined;
  // Origins this call has sent attempts to: the first alone needs no set.
  #first: string | undefined;
  #tried: Set<string> | undefined;

  constructor(input: CallInput, retryable: boolean) {
    this.method = input.method;
    this.target = input.target;
    this.path = input.path;
    this.origin = input.origin;
    this.headers = input.headers;
    this.body = input.body;
    this.callerSignal = input.signal;
    this.signal = input.signal;
    this.timeout = input.timeout;
    this.hedge = input.hedge;
    this.context = input.context;
    this.retryable = retryable;
    this.buffered = input.buffered ?? false;
  }

  /** The target service's name (the origin for a plain URL). */
  get service(): string {
    return this.target.name;
  }

  /** Records that an attempt went to `origin` (the balance layer calls it). */
  sentTo(origin: string): void {
    if (this.#tried) this.#tried.add(origin);
    else if (this.#first === undefined) this.#first = origin;
    else if (this.#first !== origin) this.#tried = new Set([this.#first, origin]);
  }

  /** The origins attempts of this call went to; undefined before the first. */
  tried(): ReadonlySet<string> | undefined {
    if (this.#first === undefined) return undefined;
    this.#tried ??= new Set([this.#first]);
    return this.#tried;
  }
}

/**
 * One attempt of a call: its kind, the instance it went to, and, when it
 * was given up, why. Layers below the retry and hedge layers see one per
 * request sent.
 */
export class Attempt {
  readonly call: Call;
  readonly kind: AttemptKind;
  /** 1 for the first attempt of the call, then one more for each retry or hedge. */
  readonly number: number;
  /**
   * This attempt's own headers, when a layer needs them to differ from the
   * call's (a per-attempt span's `traceparent`): a copy of `call.headers`
   * with its changes. The call's when unset.
   */
  headers: Record<string, string> | undefined;
  /** This attempt's own signal (the call's, plus a hedge race's); the call's when unset. */
  signal: AbortSignal | undefined;
  /** The endpoints this attempt may go to (the eject layer leaves out ejected ones); the call's when unset. */
  candidates: readonly Endpoint[] | undefined;
  /** The instance chosen by the balance layer (undefined for a plain URL). */
  endpoint: Endpoint | undefined;
  /** Where the request went: the endpoint's origin, or the plain URL's. */
  origin: string | undefined;
  /** Set when the attempt was given up before its answer: `hedge won`, `other attempt won`, ... */
  abortReason: string | undefined;

  constructor(call: Call, kind: AttemptKind, number: number) {
    this.call = call;
    this.kind = kind;
    this.number = number;
  }

  /** Another attempt of the same call (a retry or a hedge), numbered after every attempt so far. */
  another(kind: AttemptKind): Attempt {
    return new Attempt(this.call, kind, ++this.call.attempts);
  }
}

/** Sends one attempt and answers undici's response (headers in, body still to read). */
export type Send = (attempt: Attempt) => Promise<Dispatcher.ResponseData>;

/**
 * A layer of the client: given the next send, returns its own (the shape of
 * undici's interceptors, `dispatch => dispatch`). A layer may throw
 * synchronously; the client's methods turn that into a rejection. Its
 * function name names it (in `ClientOptions.layers` and the bench's
 * ablation).
 *
 * @example
 * // A layer that adds a header to every attempt.
 * const tenant: Layer = function tenant(next) {
 *   return (attempt) => {
 *     attempt.call.headers['x-tenant'] ??= 'acme';
 *     return next(attempt);
 *   };
 * };
 */
export type Layer = (next: Send) => Send;
