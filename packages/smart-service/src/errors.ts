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

/** The dependencies whose outages a service answers with 503. */
export type Dependency = 'redis' | 'db';

/**
 * Redis or the database is unavailable (refused, closed, timed out, pool
 * exhausted, connection terminated): 503 with `Retry-After`, a problem
 * member `dependency`, and the detail in every realm. Not this request's
 * bug: logged once per outage transition and reported once per outage,
 * never per request.
 */
export class DependencyUnavailableError extends createError(
  'SMART_SERVICE_DEPENDENCY_UNAVAILABLE',
  503,
  (dependency: Dependency) => `${dependency} is unavailable: retry shortly`,
  { base, expose: true, report: false },
) {
  readonly dependency: Dependency;
  /** What the driver said (logged once per outage; not in the answer, which stays stable). */
  readonly reason: string;
  /** Saturated (a full pool), not down: later calls still wait their turn instead of failing fast. */
  readonly busy: boolean;
  constructor(
    dependency: Dependency,
    reason: string,
    { busy = false, ...options }: SmartServiceErrorOptions & { busy?: boolean } = {},
  ) {
    super(dependency, { headers: { 'retry-after': '1' }, problem: { dependency }, ...options });
    this.dependency = dependency;
    this.reason = reason;
    this.busy = busy;
  }
}

/** Load shedding: over the adaptive limits (in flight, queue wait) or the event loop stalls; 503 with `Retry-After`, probes excepted. */
export class OverloadedError extends createError(
  'SMART_SERVICE_OVERLOADED',
  503,
  (reason: string) => `the service is overloaded (${reason}): retry later or elsewhere`,
  { base, expose: true, report: false },
) {}

/** A caller went over its rate limit for a route; 429 with `Retry-After`. */
export class RateLimitedError extends createError(
  'SMART_SERVICE_RATE_LIMITED',
  429,
  (max: number, after: string) => `rate limit of ${max} requests exceeded: retry in ${after}`,
  { base, expose: true, report: false },
) {}

/** The service is closing: this request came after the drain; 503 with `connection: close`. */
export class ShuttingDownError extends createError(
  'SMART_SERVICE_SHUTTING_DOWN',
  503,
  'the service is shutting down: retry on another instance',
  { base, expose: true, report: false, headers: { connection: 'close', 'retry-after': '1' } },
) {}

/** A JSON body nests deeper than `http.maxJsonDepth`; refused before it is parsed. */
export class BodyTooDeepError extends createError(
  'SMART_SERVICE_BODY_TOO_DEEP',
  400,
  (max: number) => `the JSON body nests deeper than ${max} levels`,
  { base, expose: true, report: false },
) {}

/** The path exists, but not for this method: 405 with `Allow`. */
export class MethodNotAllowedError extends createError(
  'SMART_SERVICE_METHOD_NOT_ALLOWED',
  405,
  (method: string, path: string, allowed: string) => `${method} is not allowed on ${path}: use ${allowed}`,
  { base, expose: true, report: false },
) {}

/** A fault injected on purpose (`faults.*`): an abort with the configured status. */
export class InjectedFaultError extends createError(
  'SMART_SERVICE_INJECTED_FAULT',
  503,
  (what: string) => `fault injected (${what})`,
  { base, expose: true, report: false },
) {}

/** `faults.*` set in realm `production` without `faults.allowInProduction`. */
export class FaultsRefusedError extends createError(
  'SMART_SERVICE_FAULTS_REFUSED',
  500,
  'fault injection is refused in realm production: set faults.allowInProduction to allow it',
  { base },
) {}

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
  DependencyUnavailableError.code,
  OverloadedError.code,
  RateLimitedError.code,
  ShuttingDownError.code,
  BodyTooDeepError.code,
  MethodNotAllowedError.code,
  InjectedFaultError.code,
  FaultsRefusedError.code,
  ...Object.values(problemCodes),
] as const;
