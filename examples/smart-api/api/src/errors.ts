/**
 * api's errors: each has the HTTP status it is answered with and a `code`.
 * Every code is listed in the example's README; a test checks it.
 */
import { createError } from 'smart-protocol';
import { SmartServiceError } from 'smart-service';
import type { Attempt } from './first-good.ts';

export const codes = {
  /** 400: `timeout` is missing or not a positive whole number of milliseconds (at most 60000). */
  badTimeout: 'SMART_API_BAD_TIMEOUT',
  /** 503: none of the attempts got a good answer from the upstream within `timeout`. */
  upstreamUnavailable: 'SMART_API_UPSTREAM_UNAVAILABLE',
} as const;

/** Every code api answers with. */
export const errorCodes = Object.values(codes);

// Both are shown in every realm, production included (the caller needs to know why), and
// neither is this service's bug: logged as a refusal, not reported to Bugsnag.
const refusal = { base: SmartServiceError, expose: true, report: false } as const;

const BadTimeout = createError(
  codes.badTimeout,
  400,
  (raw: string | undefined, max: number) =>
    `timeout (ms) is required: a whole number from 1 to ${max}, not ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
  refusal,
);
const UpstreamUnavailable = createError(
  codes.upstreamUnavailable,
  503,
  (timeout: number, attempts: readonly Attempt[]) =>
    `no good answer from the upstream within ${timeout} ms: ${attempts
      .map((a) => `attempt ${a.attempt} ${a.outcome}${a.code ? ` (${a.code})` : ''} after ${a.ms} ms`)
      .join(', ')}`,
  refusal,
);

export const badTimeout = (raw: string | undefined, max: number) => new BadTimeout(raw, max);

/** Says what each attempt ended with, in the detail and as `attempts`. */
export const upstreamUnavailable = (timeout: number, attempts: readonly Attempt[]) =>
  new UpstreamUnavailable(timeout, attempts, { problem: { attempts } });
