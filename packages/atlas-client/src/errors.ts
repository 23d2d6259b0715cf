import { CodedError } from 'smart-protocol';

export const codes = {
  /** Atlas could not be reached (connection refused, reset, timeout). */
  unavailable: 'SMART_ATLAS_CLIENT_UNAVAILABLE',
  /** Atlas answered with an error status. */
  http: 'SMART_ATLAS_CLIENT_HTTP',
  /** The client was given a bad option. */
  invalidOption: 'SMART_ATLAS_CLIENT_INVALID_OPTION',
} as const;

/** Every error code of this package. */
export const errorCodes = Object.values(codes);

// What a smart service answers when one escapes a handler, as for the smart
// client's errors: a dependency that is down is a 503, a failed answer a 502.
const statusCodes: Readonly<Record<string, number>> = { [codes.unavailable]: 503, [codes.http]: 502 };

/**
 * Errors of the Atlas client. Callers match `code`. `statusCode` is what a
 * smart service answers with when one escapes a handler (503 unavailable,
 * 502 for an error answer, 500 for a bad option); `status` is what Atlas
 * answered.
 *
 * @example
 * catch (err) { if (err instanceof AtlasClientError && err.remoteCode === 'SMART_ATLAS_FORBIDDEN') ... }
 */
export class AtlasClientError extends CodedError {
  /** The HTTP status Atlas answered with, when it answered. */
  readonly status: number | undefined;
  /** Atlas's problem `code` (e.g. `SMART_ATLAS_FORBIDDEN`), when it answered with one. */
  readonly remoteCode: string | undefined;

  constructor(code: string, message: string, details: { status?: number; remoteCode?: string; cause?: unknown } = {}) {
    super(code, statusCodes[code] ?? 500, message, details.cause === undefined ? {} : { cause: details.cause });
    this.status = details.status;
    this.remoteCode = details.remoteCode;
  }
}
