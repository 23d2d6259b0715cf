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
  hostNotAllowed: 'SMART_ATLAS_HOST_NOT_ALLOWED',
  invalidConfig: 'SMART_ATLAS_INVALID_CONFIG',
  secretKey: 'SMART_ATLAS_SECRET_KEY',
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

const HostNotAllowed = createError(codes.hostNotAllowed, 422, 'host %s is refused by rule "%s": %s', {
  base,
  expose: true,
});
const InvalidConfig = createError(codes.invalidConfig, 422, 'config key %s of %s: %s', { base, expose: true });
const SecretKey = createError(
  codes.secretKey,
  422,
  'config key %s of %s is a secret in the service\'s schema: write it with "secret": true',
  { base, expose: true },
);

/** 422: an instance host no caller should be sent to; `rule` names which (`link-local`, `loopback`, `allow-list`, ...). */
export const hostNotAllowed = (host: string, rule: string, why: string) =>
  new HostNotAllowed(host, rule, why, { problem: { rule } });

/** 422: a config value the service's published schema refuses; `rule` says which keyword and what it wants. */
export const invalidConfig = (key: string, service: string, rule: string) =>
  new InvalidConfig(key, service, rule, { problem: { key, rule } });

/** 422: a plain write to a key the service's schema declares secret (`x-smart-secret`). */
export const secretKey = (key: string, service: string) => new SecretKey(key, service, { problem: { key } });

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
