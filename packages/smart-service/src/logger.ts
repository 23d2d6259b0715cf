import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

// Header names and the common credential names of bodies, queries and options.
const SENSITIVE =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token|x-access-token|x-csrf-token|x-amz-security-token|token|access[-_]?token|refresh[-_]?token|id[-_]?token|auth[-_]?token|password|passwd|pwd|secret|client[-_]?secret|api[-_]?key|apikey|private[-_]?key|session[-_]?id)$/i;
const REDACTED = '[redacted]';
// First letters (lower-cased) of the sensitive names.
const MAYBE_SENSITIVE = new Set([...'apcsxtrid'].map((c) => c.charCodeAt(0)));
const isSensitive = (key: string) => MAYBE_SENSITIVE.has(key.charCodeAt(0) | 0x20) && SENSITIVE.test(key);

// Node's `rawHeaders`: [name, value, name, value, ...], the values of sensitive names redacted.
function redactRawHeaders(raw: unknown[]): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (typeof name === 'string' && isSensitive(name)) {
      copy ??= [...raw];
      copy[i + 1] = REDACTED;
    }
  }
  return copy ?? raw;
}

// A copy keeping the prototype and every property, each of them replaceable
// (a frozen config's properties are not).
function writableCopy(value: object): Record<string, unknown> {
  const descriptors = Object.getOwnPropertyDescriptors(value);
  for (const descriptor of Object.values(descriptors)) {
    descriptor.configurable = true;
    if ('value' in descriptor) descriptor.writable = true;
  }
  return Object.create(Object.getPrototypeOf(value), descriptors) as Record<string, unknown>;
}

// Header names arrive in any case when users log their own objects, and
// pino's path-based redaction is case-sensitive: walk the (small) object,
// through arrays and serialized errors (whose prototype is not Object's).
function redactHeaders(value: unknown, depth: number): unknown {
  if (depth > 5 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => redactHeaders(item, depth + 1));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Error)) return value; // secrets, URLs
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  // This runs for every line (the access line included): no allocation unless
  // something changes, and the regex only for keys that could match it.
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    const sensitive = isSensitive(key);
    if (!sensitive && (typeof item !== 'object' || item === null)) continue;
    const next = sensitive
      ? REDACTED
      : key === 'rawHeaders' && Array.isArray(item)
        ? redactRawHeaders(item)
        : redactHeaders(item, depth + 1);
    if (next !== item) {
      // Keep the prototype and every property: a serialized error keeps its fields.
      copy ??= writableCopy(value);
      Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  return copy ?? value;
}

// Set on loggers made by createLogger, and so inherited by their children
// (Fastify's app.log and each request's logger are children): known options
// (no mixin, hooks, message prefix, or a stream that needs metadata), so
// their access line can be written from a template.
const OURS = Symbol('smart-service.logger');
const { chindingsSym, lsCacheSym, timeSym, endSym, streamSym, needsMetadataGsym, serializersSym } = pino.symbols;
const INFO = 30;

/** The fields of a request's access line. */
export interface AccessLine {
  readonly method: string;
  readonly route: string | undefined;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly aborted: boolean;
}

/** @internal True when `log` (or the logger it is a child of) was made by createLogger. */
export function isServiceLogger(log: Logger): boolean {
  return (log as unknown as Record<symbol, unknown>)[OURS] === true;
}

// pino's epochTime (`,"time":<Date.now()>`), its text made once per millisecond: a busy
// service writes tens of lines a millisecond, and formatting a 13-digit number is not free.
let lastNow = 0;
let lastTime = '';
function epochTime(): string {
  const now = Date.now();
  if (now !== lastNow) {
    lastNow = now;
    lastTime = `,"time":${now}`;
  }
  return lastTime;
}

/**
 * Writes a request's access line through `log` (the request's logger):
 * `log.info({ method, route, path, status, durationMs[, aborted] }, msg)`.
 * For a logger made by createLogger the line is put together from a
 * template: the same bytes pino writes (its level prefix, time function,
 * the logger's pre-serialised bindings and end), at about a third of the
 * cost (pino walks and stringifies the object and runs the redaction
 * formatter, which has nothing to redact in these fields). Any other
 * logger (one passed as `fastify.loggerInstance`) gets the plain call.
 * Written by hand because it is one line: pino has no compiled-line API.
 */
export function writeAccessLine(log: Logger, line: AccessLine): void {
  if (log.levelVal > INFO) return;
  const msg = line.aborted ? 'request aborted by the client' : 'request completed';
  if (!isServiceLogger(log)) {
    const { aborted, ...fields } = line;
    log.info({ ...fields, route: fields.route ?? null, ...(aborted ? { aborted } : {}) }, msg);
    return;
  }
  const raw = log as unknown as Record<symbol, unknown>;
  const { route, path } = line;
  const fragments = fragmentsOf(route);
  // A static route's path is its template: its JSON is made once too.
  const pathJson = path === route ? fragments.routeJson : JSON.stringify(path);
  // Seven pieces, the constant ones made once: each joint is a string allocation.
  const text = `${prefix(raw)}${raw[chindingsSym]}${fragments.methodRouteAndPath(line.method)}${pathJson}${statusAndDuration(line.status)}${hundredths(line.durationMs)}${tail(line.aborted, raw[endSym] as string)}`;
  (raw[streamSym] as DestinationStream).write(text);
}

// `{"level":30,"time":…` as pino starts an info line, made once per millisecond.
let prefixLevel = '';
let prefixTime = '';
let prefixText = '';
function prefix(raw: Record<symbol, unknown>): string {
  const level = (raw[lsCacheSym] as Record<number, string>)[INFO] as string;
  const time = (raw[timeSym] as () => string)();
  if (time !== prefixTime || level !== prefixLevel) {
    prefixLevel = level;
    prefixTime = time;
    prefixText = level + time;
  }
  return prefixText;
}

// `,"status":200,"durationMs":` of each status.
const statusAndDuration = memo(1_000, (status: number) => `,"status":${status},"durationMs":`);

// The end of the line, after the duration, for the logger's end (`}` and its EOL).
let tailEnd = '';
let tailDone = '';
let tailAborted = '';
function tail(aborted: boolean, end: string): string {
  if (end !== tailEnd) {
    tailEnd = end;
    tailDone = `,"msg":"request completed"${end}`;
    tailAborted = `,"aborted":true,"msg":"request aborted by the client"${end}`;
  }
  return aborted ? tailAborted : tailDone;
}

// Each route's JSON and `,"method":…,"route":…,"path":` per method, stringified once: a
// service has a few dozen routes, and unmatched requests share the null route.
interface RouteFragments {
  readonly routeJson: string;
  readonly methodRouteAndPath: (method: string) => string;
}
const fragmentsOf = memo(10_000, (route: string | undefined): RouteFragments => {
  const routeJson = route === undefined ? 'null' : JSON.stringify(route);
  return {
    routeJson,
    methodRouteAndPath: memo(
      64,
      (method: string) => `,"method":${JSON.stringify(method)},"route":${routeJson},"path":`,
    ),
  };
});

/**
 * `make`, remembered for the first `limit` keys (past them, made on each
 * call): the access line's constant pieces, keyed by the few routes,
 * methods, statuses and binding names a service has, never by a request's
 * own data.
 */
function memo<K, V>(limit: number, make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      if (made.size < limit) made.set(key, value);
    }
    return value;
  };
}

// JSON's text of a duration rounded to hundredths (what JSON.stringify writes for
// Math.round(ms * 100) / 100), from integers: formatting a double costs ~10x more.
function hundredths(ms: number): string {
  const h = Math.round(ms * 100);
  if (!(h >= 0 && h < 2 ** 31)) return JSON.stringify(h / 100);
  const whole = (h / 100) | 0;
  const cents = h - whole * 100;
  if (cents === 0) return `${whole}`;
  if (cents % 10 === 0) return `${whole}.${cents / 10}`;
  return `${whole}.${cents < 10 ? '0' : ''}${cents}`;
}

/**
 * The `child` of every logger made by createLogger (an own property of the
 * root, so every descendant inherits it): Fastify makes one child per
 * request (`child({ reqId }, {})`), and pino's `child` costs ~0.7 us there,
 * as it rebuilds the formatters object for every child given an options
 * object, even an empty one. When the options carry nothing (no level,
 * serializers, formatters, redact, msgPrefix, custom levels: nearly every
 * request) and no binding has a serializer, the child is made as pino's
 * `child(bindings)` makes it, minus the formatter object: the parent's
 * prototype with each binding appended to its pre-serialised bindings
 * through JSON.stringify (pino's own stringify writes strings, numbers and
 * booleans the same). Any other call gets pino's `child`. Written by hand:
 * pino has no cheaper public child, and Fastify checks the logger a custom
 * `childLoggerFactory` returns on every request (~0.5 us), so the cheap
 * child has to come through its default factory.
 */
function installFastChild(root: Logger): void {
  const pinoChild = root.child;
  const onChild = root.onChild;
  const fastChild = function child(this: Logger, bindings: Record<string, unknown>, options?: object) {
    const chindings = this.onChild === onChild && noOptions(options) ? appended(this, bindings) : undefined;
    if (chindings === undefined) return pinoChild.call(this, bindings, options as Parameters<Logger['child']>[1]);
    const instance = Object.create(this) as Record<symbol, unknown>;
    instance[chindingsSym] = chindings;
    return instance as unknown as Logger;
  };
  Object.defineProperty(root, 'child', { value: fastChild, writable: true, configurable: true });
}

// The last string said to need no JSON escaping (see noteJsonPlain).
let plainString: string | undefined;

/**
 * @internal Notes that `value` has no character JSON escapes (the request id
 * generator calls it for each id it returns): the next child bound to it quotes it as is.
 */
export function noteJsonPlain(value: string): void {
  plainString = value;
}

// `,"key":` of the binding keys seen (requestId on every request), stringified once.
const keyJson = memo(1_000, (key: string) => `,${JSON.stringify(key)}:`);

// True when a child's options ask for nothing (undefined, or an empty object as Fastify passes).
function noOptions(options: object | undefined): boolean {
  if (options != null) for (const _ in options) return false;
  return true;
}

// The parent's pre-serialised bindings with `bindings` appended, as pino's child(bindings)
// writes them; undefined when pino would do more than append (a key it treats as an
// option, a key with a serializer, a value other than a string, number or boolean).
function appended(parent: Logger, bindings: Record<string, unknown>): string | undefined {
  if (typeof bindings !== 'object' || bindings === null) return undefined;
  const serializers = (parent as unknown as Record<symbol, Record<string, unknown>>)[serializersSym];
  let chindings = (parent as unknown as Record<symbol, string>)[chindingsSym];
  for (const key in bindings) {
    if (!Object.hasOwn(bindings, key)) return undefined;
    if (key === 'level' || key === 'serializers' || key === 'formatters' || key === 'customLevels') return undefined;
    if (serializers?.[key] !== undefined) return undefined;
    const value = bindings[key];
    if (value === undefined) continue;
    // The request id Fastify binds was checked or made by us (letters, digits, `._-`):
    // quoted as is, where JSON.stringify of any string costs ~1,000 instructions.
    if (value === plainString) chindings += `${keyJson(key)}"${value}"`;
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      chindings += `${keyJson(key)}${JSON.stringify(value)}`;
    else return undefined;
  }
  return chindings;
}

/**
 * stdout for the service logger: the lines of one turn of the event loop
 * are written together, in one synchronous write through sonic-boom
 * (pino's destination, which handles EAGAIN and partial writes) when the
 * turn ends (setImmediate), and at exit. A write per line (pino's default)
 * cost ~1.8 us a request here, a system call each; a loaded service ends
 * tens of requests per turn. A line waits at most until the turn ends, and
 * a crash still writes it (the exit handler flushes); only a SIGKILL in the
 * middle of a turn loses that turn's lines. sonic-boom's own batching
 * (`minLength`) cost more per line than the write it saved (it measures
 * its growing buffer on every write), hence these few lines by hand.
 */
export class TurnBatchedStdout implements DestinationStream {
  // Given buffers: given a string, sonic-boom measures its UTF-8 length twice per write
  // and Node once more, three passes over every line besides the encoding.
  readonly #out = pino.destination({ dest: 1, sync: true, contentMode: 'buffer' });
  #lines: string[] = [];
  #scheduled = false;
  readonly #flushTurn = () => {
    this.#scheduled = false;
    this.flushSync();
  };

  constructor() {
    process.on('exit', this.#flushTurn);
  }

  write(line: string): void {
    this.#lines.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushTurn);
    }
  }

  /** Writes every waiting line now. */
  flushSync(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? (this.#lines[0] as string) : this.#lines.join('');
    this.#lines = [];
    // Encoded once, into a buffer with room for the worst case (3 bytes per UTF-16 unit).
    const buffer = Buffer.allocUnsafe(text.length * 3);
    const length = buffer.write(text, 0, 'utf8');
    (this.#out as unknown as { write(data: Buffer): boolean }).write(buffer.subarray(0, length));
  }

  /** pino's `logger.flush()`. */
  flush(callback?: (err?: Error) => void): void {
    this.flushSync();
    callback?.();
  }
}

// One per process: every service logger of the process shares it (and its exit handler).
let sharedStdout: TurnBatchedStdout | undefined;
const stdout = () => {
  sharedStdout ??= new TurnBatchedStdout();
  return sharedStdout;
};

/** What the service logger is made from. */
export interface LoggerSettings {
  readonly service: string;
  readonly version: string;
  readonly realm: string;
  readonly level: string;
  readonly pretty: boolean;
  /** Where lines go; stdout by default. Tests pass a stream to capture them. */
  readonly destination?: DestinationStream | undefined;
}

/**
 * The service's pino logger: JSON lines with `service`, `realm` and
 * `version`; `authorization`, `cookie` and similar keys redacted whatever
 * their case; secrets show `[redacted]` by themselves.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service, realm: settings.realm, version: settings.version },
    // Epoch milliseconds (pino's default): an ISO string per line costs throughput.
    timestamp: epochTime,
    formatters: {
      // Levels stay pino's numbers (30 info, 40 warn, 50 error): a label
      // formatter costs ~5% throughput, and pino's tools read the numbers.
      log: (object) => redactHeaders(object, 0) as Record<string, unknown>,
    },
  };
  const logger = settings.destination
    ? pino(options, settings.destination)
    : settings.pretty
      ? pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } } })
      : pino(options, stdout());
  const stream = (logger as unknown as Record<symbol, Record<symbol, unknown>>)[streamSym];
  if (stream?.[needsMetadataGsym] !== true) Object.defineProperty(logger, OURS, { value: true });
  installFastChild(logger);
  return logger;
}
