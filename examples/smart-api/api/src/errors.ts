/**
 * api's errors: each has the HTTP status it is answered with and a `code`.
 * Every code is listed in the example's README; a test checks it.
 */
import type { Attempt } from './first-good.ts';

/**
 * An error api answers with as a problem+json (its `statusCode`, `code` and `problem` fields).
 *
 * @example
 * throw new ApiError(codes.badTimeout, 400, 'timeout must be a positive whole number of ms');
 */
export class ApiError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Extra problem fields. */
  readonly problem: Record<string, unknown> | undefined;
  /** Shown in every realm, production included: the caller needs to know why. */
  readonly expose = true;
  /** Not this service's bug: logged as a refusal, not reported to Bugsnag. */
  readonly report = false;

  constructor(code: string, statusCode: number, message: string, problem?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = statusCode;
    this.problem = problem;
  }
}

export const codes = {
  /** 400: `timeout` is missing or not a positive whole number of milliseconds (at most 60000). */
  badTimeout: 'SMART_API_BAD_TIMEOUT',
  /** 503: none of the attempts got a good answer from the upstream within `timeout`. */
  upstreamUnavailable: 'SMART_API_UPSTREAM_UNAVAILABLE',
} as const;

/** Every code api answers with. */
export const errorCodes = Object.values(codes);

export const badTimeout = (raw: string | undefined, max: number) =>
  new ApiError(
    codes.badTimeout,
    400,
    `timeout (ms) is required: a whole number from 1 to ${max}, not ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
  );

/** Says what each attempt ended with, in the detail and as `attempts`. */
export const upstreamUnavailable = (timeout: number, attempts: readonly Attempt[]) =>
  new ApiError(
    codes.upstreamUnavailable,
    503,
    `no good answer from the upstream within ${timeout} ms: ${attempts
      .map((a) => `attempt ${a.attempt} ${a.outcome}${a.code ? ` (${a.code})` : ''} after ${a.ms} ms`)
      .join(', ')}`,
    { attempts },
  );
