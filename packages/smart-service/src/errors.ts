/**
 * smart-service's own errors. Callers match `err.code`; each code is listed
 * in the README (a test checks it). `statusCode` is what a request that
 * meets the error is answered with.
 */
import { CodedError, type CodedErrorOptions, createError } from 'smart-protocol';

/**
 * How a `SmartServiceError` is answered, beyond its status and code:
 * `headers`, `problem` members, `report`, `expose` (and `cause`).
 */
export type SmartServiceErrorOptions = CodedErrorOptions;

/**
 * Base class of every smart-service error, and the error a service throws
 * to answer with a problem of its own: the status, a code its callers can
 * match (`RemoteError.remoteCode` on their side) and the detail. A service
 * makes its own coded errors with smart-protocol's `createError`, with this
 * class as their `base`.
 *
 * @example
 * if (err instanceof SmartServiceError && err.code === 'SMART_SERVICE_NO_APP') ...
 * throw new SmartServiceError('ORDERS_NOT_FOUND', 404, `no order ${id}`);
 * throw new SmartServiceError('ORDERS_LOGIN', 401, 'log in first', { headers: { 'www-authenticate': 'Basic' } });
 */
export class SmartServiceError extends CodedError {}

const base = SmartServiceError;

/** `currentApp()` was called outside a request with zero or several apps alive. */
export class NoCurrentAppError extends createError(
  'SMART_SERVICE_NO_APP',
  500,
  (reason: string) => `currentApp() has no app to return: ${reason}`,
  { base },
) {}

/** `currentRequest()` was called outside a request. */
export class NoCurrentRequestError extends createError(
  'SMART_SERVICE_NO_REQUEST',
  500,
  'currentRequest() was called outside a request',
  { base },
) {}

/** `app.db` or `app.redis` was used, but the service does not have it. */
export class FeatureDisabledError extends createError(
  'SMART_SERVICE_FEATURE_DISABLED',
  500,
  (feature: 'db' | 'redis') =>
    `app.${feature} is not configured: pass { ${feature}: true } to createSmartService or set ${feature}.url (SMART_${feature.toUpperCase()}__URL)`,
  { base },
) {}

/** A required setting is missing outside realm `local`, where there is no fallback. */
export class MissingSettingError extends createError(
  'SMART_SERVICE_SETTING_MISSING',
  500,
  (key: string, envVar: string, why: string) => `${key} is required (${why}): set ${envVar} or give it through Atlas`,
  { base },
) {
  readonly key: string;
  constructor(key: string, envVar: string, why: string) {
    super(key, envVar, why);
    this.key = key;
  }
}

/** `createSmartService` was given a bad option. */
export class InvalidServiceOptionError extends createError(
  'SMART_SERVICE_INVALID_OPTION',
  500,
  (message: string) => `Invalid createSmartService option: ${message}`,
  { base },
) {}

/**
 * The caller's deadline passed before the handler could start: the handler
 * never runs. The caller should see why, in every realm; not this service's
 * bug, so not reported.
 */
export class DeadlinePassedError extends createError(
  'SMART_SERVICE_DEADLINE_PASSED',
  504,
  (late: number) => `the caller's deadline passed ${late} ms ago: the request was not handled`,
  { base, expose: true, report: false },
) {}

/**
 * The embedded database's folder is in use by another process (PGlite is
 * one process's database: two would silently diverge and corrupt it).
 */
export class EmbeddedDbInUseError extends createError(
  'SMART_SERVICE_EMBEDDED_DB_IN_USE',
  500,
  (dir: string, pid: number) =>
    `the embedded database in ${dir} is in use by another process (pid ${pid}): stop it, or give this one another folder (db.embeddedDir, SMART_DB__EMBEDDED_DIR)`,
  { base },
) {}

/** Migrations failed; `cause` holds the database's error. */
export class MigrationError extends createError(
  'SMART_SERVICE_MIGRATION_FAILED',
  500,
  (migration: string | undefined, cause: unknown) =>
    `${migration ? `migration ${migration}` : 'migrations'} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
  { base },
) {
  constructor(migration: string | undefined, cause: unknown) {
    super(migration, cause, { cause });
  }
}

/** Problem `code`s the service itself answers with (besides Fastify's and the user's own). */
export const problemCodes = {
  notFound: 'SMART_SERVICE_ROUTE_NOT_FOUND',
  validation: 'SMART_SERVICE_VALIDATION_FAILED',
  internal: 'SMART_SERVICE_INTERNAL_ERROR',
} as const;

/** Every error code of this package, for documentation and exhaustive matching. */
export const errorCodes = [
  NoCurrentAppError.code,
  NoCurrentRequestError.code,
  FeatureDisabledError.code,
  MissingSettingError.code,
  InvalidServiceOptionError.code,
  MigrationError.code,
  EmbeddedDbInUseError.code,
  DeadlinePassedError.code,
  ...Object.values(problemCodes),
] as const;
