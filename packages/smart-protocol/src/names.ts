/**
 * The names that travel between services and Atlas, each as a RegExp (for
 * code) and as the string form a JSON Schema `pattern` takes (for Atlas's
 * routes): one rule, so a name one package accepts is never refused by the
 * next.
 */

/**
 * A service name: kebab-case, starting with a letter, at most 63 characters
 * (a DNS label, so it can be a host name). Used in `service://name/...`,
 * `createSmartService({ name })`, `loadConfig({ service })` and Atlas paths.
 *
 * @example
 * SERVICE_NAME_PATTERN.test('userstore'); // true
 * SERVICE_NAME_PATTERN.test('User_Store'); // false
 */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * A realm name (`local`, `testing`, `production`, `eu-west_2`): like a
 * service name, and `_` is allowed too.
 *
 * @example
 * REALM_PATTERN.test('eu_west'); // true
 */
export const REALM_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * An incoming `x-request-id` a service keeps: short, and safe to log and
 * to put in a header. Anything else is replaced by a new id.
 *
 * @example
 * REQUEST_ID_PATTERN.test('0b7c2e1a-6f7e-4b1c-9a51-0e7c1f2d3a4b'); // true
 * REQUEST_ID_PATTERN.test('a b'); // false
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * An instance id in Atlas (`PUT /v1/services/:service/instances/:id`).
 *
 * @example
 * INSTANCE_ID_PATTERN.test('userstore-7f9c.host-1'); // true
 */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * A dotted config key in Atlas (`db.poolMax`): up to 16 segments of
 * letters, digits, `_` and `-`.
 *
 * @example
 * CONFIG_KEY_PATTERN.test('db.poolMax'); // true
 * CONFIG_KEY_PATTERN.test('db..poolMax'); // false
 */
export const CONFIG_KEY_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,15}$/;

/**
 * An instance's host in Atlas: a DNS name (labels of letters, digits, `-`
 * and `_`, at most 253 characters) or an IPv4 or IPv6 address without
 * brackets or zone. Nothing else: no whitespace, CR/LF, `/`, `@` or `%`.
 *
 * @example
 * HOST_PATTERN.test('10.0.3.7'); // true
 * HOST_PATTERN.test('orders-1.eu.internal'); // true
 * HOST_PATTERN.test('evil\r\nx'); // false
 */
export const HOST_PATTERN =
  /^(?:(?=[A-Za-z0-9_.-]{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|[0-9A-Fa-f:.]{2,45})$/;

/**
 * The same patterns as strings, for JSON Schema's `pattern` keyword.
 *
 * @example
 * const params = { type: 'object', properties: { realm: { type: 'string', pattern: jsonSchemaPatterns.realm } } };
 */
export const jsonSchemaPatterns = {
  serviceName: SERVICE_NAME_PATTERN.source,
  realm: REALM_PATTERN.source,
  requestId: REQUEST_ID_PATTERN.source,
  instanceId: INSTANCE_ID_PATTERN.source,
  configKey: CONFIG_KEY_PATTERN.source,
  host: HOST_PATTERN.source,
} as const;

/**
 * Whether a value is a valid service name ({@link SERVICE_NAME_PATTERN}).
 *
 * @example
 * if (!isServiceName(options.name)) throw new Error(`bad name ${options.name}`);
 */
export function isServiceName(value: unknown): value is string {
  return typeof value === 'string' && SERVICE_NAME_PATTERN.test(value);
}

/**
 * Whether a value is a valid realm name ({@link REALM_PATTERN}).
 *
 * @example
 * isRealm('production'); // true
 */
export function isRealm(value: unknown): value is string {
  return typeof value === 'string' && REALM_PATTERN.test(value);
}

/**
 * Whether a value is an `x-request-id` worth keeping ({@link REQUEST_ID_PATTERN}).
 *
 * @example
 * const id = isRequestId(incoming) ? incoming : randomUUID();
 */
export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_PATTERN.test(value);
}
