import { createError } from 'smart-protocol';
import { SmartServiceError } from 'smart-service';

/**
 * Atlas's errors. Each becomes a problem+json response with its status
 * (through smart-service's error handler); callers match `code`.
 *
 * @example
 * if (err instanceof AtlasError && err.code === codes.forbidden) ...
 */
export class AtlasError extends SmartServiceError {}

export const codes = {
  unauthorized: 'SMART_ATLAS_UNAUTHORIZED',
  forbidden: 'SMART_ATLAS_FORBIDDEN',
  tokenInQuery: 'SMART_ATLAS_TOKEN_IN_QUERY',
  notFound: 'SMART_ATLAS_NOT_FOUND',
  badRequest: 'SMART_ATLAS_BAD_REQUEST',
  badMasterKey: 'SMART_ATLAS_BAD_MASTER_KEY',
  decryptFailed: 'SMART_ATLAS_DECRYPT_FAILED',
} as const;

/** Every error code of this package. */
export const errorCodes = Object.values(codes);

const base = AtlasError;
const Unauthorized = createError(codes.unauthorized, 401, 'authentication required: %s', { base });
const Forbidden = createError(codes.forbidden, 403, 'not allowed: %s', { base });
const TokenInQuery = createError(
  codes.tokenInQuery,
  400,
  'tokens are refused in query strings: send Authorization: Bearer <token>',
  { base },
);
const BadRequest = createError(codes.badRequest, 400, '%s', { base });
const NotFound = createError(codes.notFound, 404, '%s not found', { base });
const BadMasterKey = createError(
  codes.badMasterKey,
  500,
  'atlas.masterKey must be 32 bytes, as 64 hex characters or base64 (set SMART_ATLAS__MASTER_KEY)',
  { base },
);
const DecryptFailed = createError(
  codes.decryptFailed,
  500,
  'secret %s could not be decrypted: wrong master key or tampered row',
  { base },
);

/** 401: no bearer token, or one Atlas does not know (or that was revoked). */
export const unauthorized = (why: string) => new Unauthorized(why);

/** 403: the token is valid but may not do this. */
export const forbidden = (why: string) => new Forbidden(why);

/** 400: tokens in URLs end up in logs and browser history. */
export const tokenInQuery = () => new TokenInQuery();

/** 400: a request the schema lets through but Atlas cannot do; `why` is the detail. */
export const badRequest = (why: string) => new BadRequest(why);

/** 404: `what` (`service orders`, `key db.url`) does not exist. */
export const notFound = (what: string) => new NotFound(what);

/** 500 at startup: the master key that encrypts secrets is malformed. */
export const badMasterKey = () => new BadMasterKey();

/** 500: a stored secret does not decrypt with this master key. */
export const decryptFailed = (key: string) => new DecryptFailed(key);
