/** An error of the smart client. Callers match `code`. */
export class SmartClientError extends Error {
  readonly code: string;
  /** The status a smart service answers with when this error escapes a handler. */
  readonly statusCode: number;

  constructor(code: string, statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
  }
}

export const codes = {
  badUrl: 'SMART_CLIENT_BAD_URL',
  noInstances: 'SMART_CLIENT_NO_INSTANCES',
  notAllowed: 'SMART_CLIENT_ADDRESS_NOT_ALLOWED',
  deadline: 'SMART_CLIENT_DEADLINE_EXCEEDED',
  unavailable: 'SMART_CLIENT_UNAVAILABLE',
  http: 'SMART_CLIENT_HTTP_ERROR',
  remote: 'SMART_CLIENT_REMOTE_ERROR',
  invalidOption: 'SMART_CLIENT_INVALID_OPTION',
} as const;

/** Every error code of this package. */
export const errorCodes = Object.values(codes);

/** The chain a RemoteError carries, as it goes into a problem's `cause`. */
export interface RemoteCause {
  readonly service: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly cause?: RemoteCause;
}

/**
 * Another smart service answered with a problem+json error. It carries the
 * remote service, status, code, detail and request id, and the remote's own
 * cause chain, so a failure three services away reads as one story.
 *
 * @example
 * try { await client.get('service://userstore/users/ann') }
 * catch (err) { if (err instanceof RemoteError && err.remoteCode === 'USER_NOT_FOUND') ... }
 */
export class RemoteError extends SmartClientError {
  readonly service: string;
  readonly status: number;
  readonly remoteCode: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly remoteCause: RemoteCause | undefined;

  constructor(remote: RemoteCause) {
    super(codes.remote, 502, `${remote.service} answered ${remote.status} ${remote.code}: ${remote.detail}`);
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

/** A non-problem error status from an upstream that is not a smart service. */
export class HttpError extends SmartClientError {
  readonly status: number;
  readonly body: string;

  constructor(url: string, status: number, body: string) {
    super(codes.http, 502, `${url} answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const badUrl = (why: string) => new SmartClientError(codes.badUrl, 500, `bad service URL: ${why}`);
export const noInstances = (service: string, realm: string) =>
  new SmartClientError(codes.noInstances, 503, `no live instance of "${service}" in realm "${realm}"`);
export const notAllowed = (url: string) =>
  new SmartClientError(codes.notAllowed, 502, `resolved address ${url} is outside the allowed hosts`);
export const deadlineExceeded = (what: string) =>
  new SmartClientError(codes.deadline, 504, `deadline exceeded ${what}`);
export const unavailable = (target: string, cause: unknown) =>
  new SmartClientError(codes.unavailable, 503, `${target} is unavailable: ${(cause as Error).message}`, { cause });
