/** Errors of the Atlas client. Callers match `code`. */
export class AtlasClientError extends Error {
  readonly code: string;
  /** The HTTP status Atlas answered with, when it answered. */
  readonly status: number | undefined;
  /** Atlas's problem `code` (e.g. `SMART_ATLAS_FORBIDDEN`), when it answered with one. */
  readonly remoteCode: string | undefined;

  constructor(code: string, message: string, details: { status?: number; remoteCode?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AtlasClientError';
    this.code = code;
    this.status = details.status;
    this.remoteCode = details.remoteCode;
  }
}

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
