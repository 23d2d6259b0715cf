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
    timestamp: pino.stdTimeFunctions.epochTime,
    formatters: {
      // Levels stay pino's numbers (30 info, 40 warn, 50 error): a label
      // formatter costs ~5% throughput, and pino's tools read the numbers.
      log: (object) => redactHeaders(object, 0) as Record<string, unknown>,
    },
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } } });
  }
  // Synchronous writes, pino's own default: an asynchronous write per line
  // cost about a third of throughput here (measured with bench/), and a
  // crash loses no line.
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
