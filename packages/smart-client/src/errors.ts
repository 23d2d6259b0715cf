import { CodedError, createError, type RemoteCause } from 'smart-protocol';

export type { RemoteCause } from 'smart-protocol';

/**
 * An error of the smart client. Callers match `code`; `statusCode` is what a
 * smart service answers with when this error escapes a handler.
 *
 * @example
 * catch (err) { if (err instanceof SmartClientError && err.code === codes.deadline) ... }
 */
export class SmartClientError extends CodedError {}

export const codes = {
  badUrl: 'SMART_CLIENT_BAD_URL',
  noInstances: 'SMART_CLIENT_NO_INSTANCES',
  notAllowed: 'SMART_CLIENT_ADDRESS_NOT_ALLOWED',
  deadline: 'SMART_CLIENT_DEADLINE_EXCEEDED',
  unavailable: 'SMART_CLIENT_UNAVAILABLE',
  http: 'SMART_CLIENT_HTTP_ERROR',
  remote: 'SMART_CLIENT_REMOTE_ERROR',
  invalidOption: 'SMART_CLIENT_INVALID_OPTION',
  circuitOpen: 'SMART_CLIENT_CIRCUIT_OPEN',
  bulkheadFull: 'SMART_CLIENT_BULKHEAD_FULL',
} as const;

/** Every error code of this package. */
export const errorCodes = Object.values(codes);

const base = SmartClientError;
const BadUrl = createError(codes.badUrl, 500, 'bad service URL: %s', { base });
const NoInstances = createError(codes.noInstances, 503, 'no live instance of "%s" in realm "%s"', { base });
const NotAllowed = createError(codes.notAllowed, 502, 'resolved address %s is outside the allowed hosts', { base });
const DeadlineExceeded = createError(codes.deadline, 504, 'deadline exceeded %s', { base });
const Unavailable = createError(codes.unavailable, 503, '%s is unavailable: %s', { base });
const InvalidOption = createError(codes.invalidOption, 500, '%s', { base });
const CircuitOpen = createError(codes.circuitOpen, 503, 'the circuit to %s is %s: failing fast, next try in %s ms', {
  base,
});
const BulkheadFull = createError(codes.bulkheadFull, 503, '%s has %s calls in flight and %s queued: failing fast', {
  base,
});

/**
 * Another smart service answered with a problem+json error. It carries the
 * remote service, status, code, detail and request id, and the remote's own
 * cause chain, so a failure three services away reads as one story.
 *
 * @example
 * try { await client.get('service://userstore/users/ann') }
 * catch (err) { if (err instanceof RemoteError && err.remoteCode === 'USER_NOT_FOUND') ... }
 */
export class RemoteError extends createError(
  codes.remote,
  502,
  (remote: RemoteCause) => `${remote.service} answered ${remote.status} ${remote.code}: ${remote.detail}`,
  { base },
) {
  readonly service: string;
  readonly status: number;
  readonly remoteCode: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly remoteCause: RemoteCause | undefined;

  constructor(remote: RemoteCause) {
    super(remote);
    this.service = remote.service;
    this.status = remote.status;
    this.remoteCode = remote.code;
    this.detail = remote.detail;
    this.requestId = remote.requestId;
    this.remoteCause = remote.cause;
  }

  /** The chain for the caller's own problem+json `cause`. */
  toCause(): RemoteCause {
    return {
      service: this.service,
      status: this.status,
      code: this.remoteCode,
      detail: this.detail,
      requestId: this.requestId,
      ...(this.remoteCause ? { cause: this.remoteCause } : {}),
    };
  }
}

/**
 * A non-problem error status from an upstream that is not a smart service.
 *
 * @example
 * catch (err) { if (err instanceof HttpError && err.status === 404) ... }
 */
export class HttpError extends createError(codes.http, 502, '%s answered %s', { base }) {
  readonly status: number;
  readonly body: string;

  constructor(url: string, status: number, body: string) {
    super(url, status);
    this.status = status;
    this.body = body;
  }
}

/** A `service://` URL that cannot be called (500: the caller's code is wrong). */
export const badUrl = (why: string) => new BadUrl(why);
/** The resolver knows no live instance of the service (503). */
export const noInstances = (service: string, realm: string) => new NoInstances(service, realm);
/** The resolver answered an address outside `allowedHosts` (502). */
export const notAllowed = (url: string) => new NotAllowed(url);
/** The call's deadline passed (504); `what` says when: `before the call`, `after 2000 ms`. */
export const deadlineExceeded = (what: string) => new DeadlineExceeded(what);
/** The target could not be reached (503); `cause` is the socket's error. */
export const unavailable = (target: string, cause: unknown) =>
  new Unavailable(target, (cause as Error).message, { cause });
/**
 * The target's circuit is open (or half-open with its probes taken): the
 * call failed fast without a request (503, not retried). `Retry-After` says
 * when the circuit lets a probe through.
 */
export const circuitOpen = (target: string, state: string, retryAfterMs: number) =>
  new CircuitOpen(target, state, Math.ceil(retryAfterMs), {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
/** The target's bulkhead is full: as many calls in flight and queued as allowed (503, not retried). */
export const bulkheadFull = (target: string, active: number, queued: number) =>
  new BulkheadFull(target, active, queued, { headers: { 'retry-after': '1' } });
/** A client option is invalid (500). */
export const invalidOption = (message: string) => new InvalidOption(message);
