const REDACTED = '[redacted]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A resolved secret. Every way of printing it shows `[redacted]`:
 * `JSON.stringify`, `util.inspect`/`console.log`, template strings, pino.
 * The value is read only with an explicit `reveal()`.
 *
 * @example
 * const db = new pg.Pool({ password: config.value.db.password.reveal() });
 * log.info({ password: config.value.db.password }); // {"password":"[redacted]"}
 */
export class Secret<T = string> {
  // A private field is invisible to every reflection API, so no generic
  // serializer (structuredClone aside) can reach the value by accident.
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The secret's value. Call it where the value is used, never to log it. */
  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectSymbol](): string {
    return REDACTED;
  }
}

/** Options of a `secret()` placeholder. */
export interface SecretOptions<T> {
  /**
   * A development value used only in realm `local`, so a new service runs
   * with nothing set. Every other realm ignores it.
   */
  readonly local?: T;
  /** The key may stay unset in every realm (its value is then `undefined`). */
  readonly optional?: boolean;
}

/** The marker `secret()` returns; only valid in `defineConfig`'s `defaults`. */
export class SecretPlaceholder<T = unknown> {
  readonly local: T | undefined;
  readonly optional: boolean;

  constructor(options: SecretOptions<T>) {
    this.local = options.local;
    this.optional = options.optional ?? false;
    Object.freeze(this);
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspectSymbol](): string {
    return '[secret]';
  }
}

/**
 * Marks a key as secret in `defineConfig`'s defaults: it has no value in
 * source, and gets one from the environment or a runtime source (Atlas).
 * Outside realm `local` an unset secret is a startup error naming the key.
 *
 * @example
 * defaults: {
 *   db: { password: secret({ local: 'postgres' }) },
 *   bugsnag: { apiKey: secret({ optional: true }) },
 * }
 */
export function secret<T = string>(options: SecretOptions<T> = {}): SecretPlaceholder<T> {
  return new SecretPlaceholder(options);
}

/** True for a resolved `Secret`. */
export function isSecret(value: unknown): value is Secret<unknown> {
  return value instanceof Secret;
}
