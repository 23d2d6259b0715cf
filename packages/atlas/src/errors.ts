import { SmartServiceError } from 'smart-service';

/**
 * Atlas's errors. Each becomes a problem+json response with its status
 * (through smart-service's error handler); callers match `code`.
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

/** 401: no bearer token, or one Atlas does not know (or that was revoked). */
export const unauthorized = (why: string) => new AtlasError(codes.unauthorized, 401, `authentication required: ${why}`);

/** 403: the token is valid but may not do this. */
export const forbidden = (why: string) => new AtlasError(codes.forbidden, 403, `not allowed: ${why}`);

/** 400: tokens in URLs end up in logs and browser history. */
export const tokenInQuery = () =>
  new AtlasError(codes.tokenInQuery, 400, 'tokens are refused in query strings: send Authorization: Bearer <token>');

export const badRequest = (why: string) => new AtlasError(codes.badRequest, 400, why);

export const notFound = (what: string) => new AtlasError(codes.notFound, 404, `${what} not found`);

export const badMasterKey = () =>
  new AtlasError(
    codes.badMasterKey,
    500,
    'atlas.masterKey must be 32 bytes, as 64 hex characters or base64 (set SMART_ATLAS__MASTER_KEY)',
  );

export const decryptFailed = (key: string) =>
  new AtlasError(codes.decryptFailed, 500, `secret ${key} could not be decrypted: wrong master key or tampered row`);

/** Every error code of this package. */
export const errorCodes = Object.values(codes);
