/**
 * One way to make an error with a code, in the manner of `@fastify/error`:
 * every package has one base class (`SmartClientError`, `SmartServiceError`,
 * ...) that extends {@link CodedError}, and makes each of its codes with
 * {@link createError}. Callers match `err.code`, never the message.
 */

/**
 * How an error is answered when it reaches a smart service's error handler,
 * beyond its status and code; plus the standard `cause`.
 */
export interface CodedErrorOptions extends ErrorOptions {
  /** Response headers the problem answer carries (`WWW-Authenticate`, `Retry-After`); never its content type. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Extension members of the problem+json body (shown whenever the detail is). */
  readonly problem?: Readonly<Record<string, unknown>>;
  /** False for an expected refusal that is not this service's bug: not logged as a failure, not sent to Bugsnag. */
  readonly report?: boolean;
  /** Show the detail (and `problem`) in every realm, also for a 5xx. Default: only below 500. */
  readonly expose?: boolean;
}

/**
 * An error with a stable `code` and the HTTP `statusCode` a smart service
 * answers with when the error escapes a handler. `name` is the class's name.
 * Each package's base class extends it; so may a service's own errors.
 *
 * @example
 * class SmartClientError extends CodedError {}
 * throw new SmartClientError('SMART_CLIENT_INVALID_OPTION', 500, 'timeoutMs must be positive');
 */
export class CodedError extends Error {
  readonly code: string;
  readonly statusCode: number;
  // `declare`: present only when given, so an error without them has no such keys.
  declare readonly headers?: Readonly<Record<string, string>>;
  declare readonly problem?: Readonly<Record<string, unknown>>;
  declare readonly report?: boolean;
  declare readonly expose?: boolean;

  constructor(code: string, statusCode: number, message: string, options: CodedErrorOptions = {}) {
    const { headers, problem, report, expose, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    if (headers) this.headers = headers;
    if (problem) this.problem = problem;
    if (report !== undefined) this.report = report;
    if (expose !== undefined) this.expose = expose;
  }
}

/**
 * A class {@link createError} can extend: {@link CodedError}'s constructor.
 *
 * @example
 * const base: CodedErrorBase<SmartServiceError> = SmartServiceError;
 */
export type CodedErrorBase<E extends CodedError = CodedError> = new (
  code: string,
  statusCode: number,
  message: string,
  options?: CodedErrorOptions,
) => E;

/**
 * The arguments a message template takes: one per `%s`.
 *
 * @example
 * type Args = TemplateArgs<'%s is not in realm %s'>; // [unknown, unknown]
 */
export type TemplateArgs<T extends string> = string extends T
  ? unknown[]
  : T extends `${string}%s${infer Rest}`
    ? [unknown, ...TemplateArgs<Rest>]
    : [];

/**
 * The class {@link createError} returns: construct it with the message's
 * arguments, and optionally one more, the instance's own options (`cause`,
 * `headers`, ...), which override the class's.
 *
 * @example
 * const NotFound: CodedErrorClass<'ORDERS_NOT_FOUND', [id: string], SmartServiceError> = ...;
 * throw new NotFound('o-42', { cause: err });
 */
export interface CodedErrorClass<C extends string, Args extends unknown[], E extends CodedError> {
  new (...args: Args): E & { readonly code: C };
  new (...args: [...Args, CodedErrorOptions]): E & { readonly code: C };
  /** The code of every instance. */
  readonly code: C;
  /** The status of every instance. */
  readonly statusCode: number;
  readonly prototype: E;
}

/** What {@link createError} takes besides code, status and message. */
export interface CreateErrorOptions<E extends CodedError> extends CodedErrorOptions {
  /** The class to extend (the package's base class); default {@link CodedError}. */
  readonly base?: CodedErrorBase<E>;
  /** The instances' `name`; default the base's name. A `class X extends createError(...)` is named `X`. */
  readonly name?: string;
}

/**
 * Makes the class of one coded error: each instance has `code`,
 * `statusCode`, `name`, the message made from the constructor's arguments,
 * and `cause`/`headers`/`problem`/`report`/`expose` from `options` (for
 * every instance) or from one extra, last constructor argument (for that
 * instance). The message is a fixed string, a template whose `%s` take the
 * arguments in order, or a function of the arguments (give it no default
 * or rest parameters: its `length` says where the arguments end).
 *
 * @example
 * class SmartClientError extends CodedError {}
 * const BadUrl = createError('SMART_CLIENT_BAD_URL', 500, 'bad service URL: %s', { base: SmartClientError });
 * throw new BadUrl('no host'); // instanceof SmartClientError, code SMART_CLIENT_BAD_URL, name SmartClientError
 *
 * export class UnknownKeyError extends createError(
 *   'SMART_CONFIG_UNKNOWN_KEY', 500, (key: string) => `Unknown config key "${key}"`, { base: SmartConfigError },
 * ) {}
 * throw new UnknownKeyError('db.pool', { cause: err }); // name UnknownKeyError
 */
export function createError<C extends string, T extends string, E extends CodedError = CodedError>(
  code: C,
  statusCode: number,
  message: T,
  options?: CreateErrorOptions<E>,
): CodedErrorClass<C, TemplateArgs<T>, E>;
export function createError<C extends string, Args extends unknown[], E extends CodedError = CodedError>(
  code: C,
  statusCode: number,
  message: (...args: Args) => string,
  options?: CreateErrorOptions<E>,
): CodedErrorClass<C, Args, E>;
export function createError(
  code: string,
  statusCode: number,
  message: string | ((...args: unknown[]) => string),
  options: CreateErrorOptions<CodedError> = {},
): unknown {
  if (typeof code !== 'string' || code === '') throw new TypeError('createError: code must be a non-empty string');
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new TypeError(`createError: statusCode of ${code} must be an HTTP status (100-599), not ${statusCode}`);
  }
  const { base = CodedError, name, ...defaults } = options;
  const format = typeof message === 'function' ? message : (...args: unknown[]) => fill(message, args);
  const arity = typeof message === 'function' ? message.length : message.split('%s').length - 1;

  const Coded = class extends base {
    static readonly code = code;
    static readonly statusCode = statusCode;

    constructor(...args: unknown[]) {
      // One argument more than the message takes: this instance's options.
      const own = args.length > arity ? (args.pop() as CodedErrorOptions | undefined) : undefined;
      super(code, statusCode, format(...args), own ? { ...defaults, ...own } : defaults);
    }
  };
  Object.defineProperty(Coded, 'name', { value: name ?? base.name });
  return Coded;
}

function fill(template: string, args: readonly unknown[]): string {
  let next = 0;
  return template.replace(/%s/g, () => String(args[next++]));
}
