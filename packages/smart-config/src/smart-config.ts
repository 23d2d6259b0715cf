import { SERVICE_NAME_PATTERN } from 'smart-protocol';
import type { z } from 'zod';
import { type ConfigSource, type Env, envSource, type SourceContext, type Unwatch } from './config-source.ts';
import { deepClone, deepEqual, expandDottedKeys, getPath, isPlainObject, setPath, type Tree } from './deep.ts';
import type { ConfigDefinition, ConfigValue } from './define-config.ts';
import { REALM_PATTERN } from './define-config.ts';
import {
  type ConfigIssue,
  ConfigValidationError,
  InvalidOptionError,
  MissingSecretError,
  SourceFailedError,
  UnknownKeyError,
  UpdateRejectedError,
} from './errors.ts';
import { type Layer, type Provenance, type ResolveInput, resolve } from './resolve.ts';
import { isSecret } from './secret.ts';

/** Options of `loadConfig`. */
export interface LoadConfigOptions {
  /** The service's name, as Atlas and logs know it (kebab-case). */
  readonly service: string;
  /** The realm; defaults to `SMART_REALM` from `env`, then `local`. */
  readonly realm?: string;
  /** The environment to read; defaults to `process.env`. Read once, at load. */
  readonly env?: Env;
  /** Extra layers above the environment, lowest precedence first (Atlas is one). */
  readonly sources?: readonly ConfigSource[];
}

/** One key's value and where it came from, as `explain()` reports it. */
export interface KeyExplanation {
  readonly key: string;
  /** The current value; a secret shows as `[redacted]`. */
  readonly value: unknown;
  /** The layer that set it: `defaults`, `realm:<name>`, `env`, a source's name, `schema` (a zod default) or `unset`. */
  readonly source: string;
  /** Lower layers that set the key too, highest first; secrets redacted. */
  readonly overridden: readonly { readonly source: string; readonly value: unknown }[];
  readonly envVar: string;
  readonly secret: boolean;
}

/** What a `change` listener receives. */
export interface ConfigChange<T> {
  /** Dotted keys whose value changed. */
  readonly changed: readonly string[];
  readonly previous: T;
  readonly next: T;
}

/** The events of a `SmartConfig` and their payloads. */
export interface ConfigEvents<T> {
  change: ConfigChange<T>;
  error: UpdateRejectedError | SourceFailedError;
}

const REDACTED = '[redacted]';
const RESERVED_LAYERS = new Set(['defaults', 'env', 'schema', 'unset']);

function redact(value: unknown, secret: boolean): unknown {
  return value !== undefined && (secret || isSecret(value)) ? REDACTED : value;
}

/**
 * A loaded config: the current typed snapshot, where each key came from,
 * and live changes from watching sources. Made by `loadConfig`.
 *
 * @example
 * const config = await loadConfig(definition, { service: 'orders' });
 * config.value.db.poolMax;            // typed, frozen, always current
 * config.explain('db.poolMax');       // [{ key, value, source: 'env', overridden: [...] }]
 * config.on('change', ({ changed }) => log.info({ changed }, 'config changed'));
 */
export class SmartConfig<T> {
  readonly service: string;
  readonly realm: string;
  readonly #input: ResolveInput;
  readonly #layers: Layer[];
  #value: T;
  #provenance: ReadonlyMap<string, Provenance>;
  readonly #listeners = {
    change: new Set<(event: ConfigChange<T>) => void>(),
    error: new Set<(event: ConfigEvents<T>['error']) => void>(),
  };
  readonly #unwatch: Unwatch[] = [];
  #closed = false;
  // The values of per-key sources refused now, by source.
  readonly #rejected = new Map<string, readonly ConfigIssue[]>();
  // The sources above the fixed layers and the environment, and where their layers start.
  #sources: readonly ConfigSource[] = [];
  #context: SourceContext | undefined;
  // Sources' bookkeeping still running (a last-known-good copy being written): close() waits for it.
  readonly #telling = new Set<Promise<void>>();

  /** @internal Use `loadConfig`. */
  constructor(
    service: string,
    input: ResolveInput,
    layers: Layer[],
    value: T,
    provenance: ReadonlyMap<string, Provenance>,
    rejected: readonly ConfigIssue[] = [],
  ) {
    this.service = service;
    this.realm = input.realm;
    this.#input = input;
    this.#layers = layers;
    this.#value = value;
    this.#provenance = provenance;
    for (const issue of rejected) this.#rejected.set(issue.layer, [...(this.#rejected.get(issue.layer) ?? []), issue]);
  }

  /**
   * The values of runtime sources (Atlas) refused now, each naming its key,
   * source and why: the key is running on its lower layers' value (or its
   * last good one). Empty when every value applied. smart-service shows it
   * in readiness detail.
   *
   * @example
   * for (const issue of config.rejected) log.error(issue, `config key ${issue.key} from ${issue.layer} refused`);
   */
  get rejected(): readonly ConfigIssue[] {
    return [...this.#rejected.values()].flat();
  }

  /** The current config: typed, deeply frozen, replaced as a whole on each accepted change. */
  get value(): T {
    return this.#value;
  }

  /**
   * Each key's value (secrets redacted), the layer it came from and the
   * layers it overrode. With a key, only that key, or the keys under it.
   */
  explain(key?: string): KeyExplanation[] {
    const keys = this.#input.keys.filter((k) => key === undefined || k.key === key || k.key.startsWith(`${key}.`));
    if (key !== undefined && keys.length === 0) throw new UnknownKeyError(key);
    return keys.map((k) => {
      const provenance = this.#provenance.get(k.key);
      const value = getPath(this.#value, k.path);
      const source = provenance?.winner?.layer ?? (value === undefined ? 'unset' : 'schema');
      return {
        key: k.key,
        value: redact(value, k.secret),
        source,
        overridden: (provenance?.overridden ?? []).map((c) => ({ source: c.layer, value: redact(c.value, k.secret) })),
        envVar: k.envVar,
        secret: k.secret,
      };
    });
  }

  /**
   * Listens for `change` (an accepted live update) or `error` (a rejected
   * update, a failed watch). Returns a function that removes the listener.
   * Without an `error` listener, errors become process warnings.
   */
  on<E extends keyof ConfigEvents<T>>(event: E, listener: (payload: ConfigEvents<T>[E]) => void): () => void {
    const set = this.#listeners[event] as Set<(payload: ConfigEvents<T>[E]) => void>;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Stops every watch and drops every listener. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.change.clear();
    this.#listeners.error.clear();
    await Promise.allSettled([...this.#telling]);
    await Promise.allSettled(this.#unwatch.splice(0).map(async (stop) => stop()));
  }

  /** @internal Tells each source what it gave was taken (and which keys were refused); waits for them. */
  async accepted(sources: readonly ConfigSource[], context: SourceContext): Promise<void> {
    this.#sources = sources;
    this.#context = context;
    await Promise.all(sources.map((source) => this.#tell(source)));
  }

  #tell(source: ConfigSource): Promise<void> {
    if (!source.accepted || !this.#context) return Promise.resolve();
    const refused = (this.#rejected.get(source.name) ?? []).map((issue) => issue.key);
    // A source's bookkeeping failing never fails the config.
    const telling = Promise.resolve()
      .then(() => source.accepted?.(this.#context as SourceContext, refused))
      .catch(() => {})
      .finally(() => this.#telling.delete(telling));
    this.#telling.add(telling);
    return telling;
  }

  /** @internal Starts the watches of the sources that have one. */
  async watch(sources: readonly ConfigSource[], context: SourceContext): Promise<void> {
    const base = this.#layers.length - sources.length;
    for (const [i, source] of sources.entries()) {
      if (!source.watch) continue;
      try {
        this.#unwatch.push(await source.watch(context, (values) => this.#update(base + i, values)));
      } catch (err) {
        await this.close();
        throw new SourceFailedError(source.name, err);
      }
    }
  }

  #update(index: number, values: Tree): void {
    try {
      this.#apply(index, values);
    } catch (err) {
      // Whatever goes wrong with an update is the config's problem, not the source's.
      const name = (this.#layers[index] as Layer).name;
      const issue = { key: '', layer: name, message: `the update could not be applied: ${(err as Error).name}` };
      this.#emit('error', new UpdateRejectedError(name, [issue]));
    }
  }

  #apply(index: number, values: Tree): void {
    if (this.#closed) return;
    const name = (this.#layers[index] as Layer).name;
    if (!isPlainObject(values)) {
      const issue = { key: '', layer: name, message: 'a source must give a plain object' };
      this.#emit('error', new UpdateRejectedError(name, [issue]));
      return;
    }
    let layers = this.#layers.with(index, { name, values: expandDottedKeys(values) });
    let result = resolve(this.#input, layers);
    const refused = result.ok ? result.rejected.filter((issue) => issue.layer === name) : [];
    if (result.ok && refused.length > 0) {
      // A running instance keeps a refused key's last good value: the layer's previous value for it.
      const kept = deepClone(layers[index]?.values ?? {}) as Record<string, unknown>;
      const previous = (this.#layers[index] as Layer).values;
      for (const issue of refused) {
        const key = this.#input.keys.find((k) => k.key === issue.key);
        if (key) setPath(kept, key.path, deepClone(getPath(previous, key.path)));
      }
      layers = this.#layers.with(index, { name, values: kept });
      result = resolve(this.#input, layers);
    }
    if (!result.ok) {
      this.#emit('error', new UpdateRejectedError(name, result.issues));
      return;
    }
    if (refused.length > 0) this.#rejected.set(name, refused);
    else this.#rejected.delete(name);
    if (refused.length > 0) this.#emit('error', new UpdateRejectedError(name, refused));
    this.#layers.splice(index, 1, layers[index] as Layer);
    const source = this.#sources.find((s) => s.name === name);
    if (source) void this.#tell(source);
    const previous = this.#value;
    const next = result.value as T;
    this.#provenance = result.provenance;
    const changed = this.#input.keys
      .filter((key) => !deepEqual(getPath(previous, key.path), getPath(next, key.path)))
      .map((key) => key.key);
    if (changed.length === 0) return;
    this.#value = next;
    this.#emit('change', { changed, previous, next });
  }

  #emit<E extends keyof ConfigEvents<T>>(event: E, payload: ConfigEvents<T>[E]): void {
    const listeners = [...(this.#listeners[event] as Set<(payload: ConfigEvents<T>[E]) => void>)];
    if (event === 'error' && listeners.length === 0) {
      const err = payload as Error & { code: string };
      process.emitWarning(err.message, { code: err.code });
      return;
    }
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (err) {
        // The update is applied and the other listeners still run; the bug
        // surfaces as an uncaught exception, as it would from an EventEmitter.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

function checkOptions(options: LoadConfigOptions, env: Env): { realm: string; sources: readonly ConfigSource[] } {
  if (!options || typeof options.service !== 'string' || !SERVICE_NAME_PATTERN.test(options.service)) {
    throw new InvalidOptionError(`service must be a kebab-case name matching ${SERVICE_NAME_PATTERN}`);
  }
  // Forgetting SMART_REALM in production would quietly select local, with its development secrets.
  if (options.realm === undefined && env.SMART_REALM === undefined && env.NODE_ENV === 'production') {
    throw new InvalidOptionError(
      'NODE_ENV is production but SMART_REALM is not set: set SMART_REALM (local is for development)',
    );
  }
  const realm = options.realm ?? env.SMART_REALM ?? 'local';
  if (!REALM_PATTERN.test(realm)) throw new InvalidOptionError(`realm "${realm}" must match ${REALM_PATTERN}`);
  const sources = options.sources ?? [];
  const names = new Set<string>();
  for (const source of sources) {
    if (!source || typeof source.name !== 'string' || typeof source.load !== 'function') {
      throw new InvalidOptionError('each source needs a name and a load() function');
    }
    if (RESERVED_LAYERS.has(source.name) || source.name.startsWith('realm:') || names.has(source.name)) {
      throw new InvalidOptionError(`source name "${source.name}" is reserved or used twice`);
    }
    names.add(source.name);
  }
  return { realm, sources };
}

async function loadLayer(source: ConfigSource, context: SourceContext): Promise<Layer> {
  let values: unknown;
  try {
    values = await source.load(context);
  } catch (err) {
    throw new SourceFailedError(source.name, err);
  }
  if (!isPlainObject(values))
    throw new SourceFailedError(source.name, new TypeError('load() must return a plain object'));
  return { name: source.name, values: expandDottedKeys(values) };
}

/**
 * Loads a config: defaults, then the realm's overrides, then the environment,
 * then each extra source (lowest precedence first), validated against the
 * schema. Rejects with `SMART_CONFIG_INVALID` listing every bad key and its
 * layer, or `SMART_CONFIG_SECRET_MISSING` when only secrets are missing.
 *
 * @example
 * const config = await loadConfig(definition, { service: 'orders', sources: [atlas] });
 * const pool = new pg.Pool({ connectionString: config.value.db.url.reveal(), max: config.value.db.poolMax });
 */
export async function loadConfig<S extends z.ZodObject, D>(
  definition: ConfigDefinition<S, D>,
  options: LoadConfigOptions,
): Promise<SmartConfig<ConfigValue<S, D>>> {
  const env = options?.env ?? process.env;
  const { realm, sources } = checkOptions(options, env);
  const input: ResolveInput = {
    schema: definition.schema,
    keys: definition.keys,
    objectPaths: definition.objectPaths,
    placeholders: definition.placeholders,
    realm,
    perKey: new Set(sources.filter((source) => source.perKey).map((source) => source.name)),
  };
  const context: SourceContext = Object.freeze({ service: options.service, realm, keys: definition.keys });

  const fixed: Layer[] = [
    { name: 'defaults', values: definition.defaults as Tree },
    { name: `realm:${realm}`, values: definition.realms[realm] ?? {} },
  ];
  const loaded = await Promise.all([envSource(env), ...sources].map((source) => loadLayer(source, context)));
  const layers = [...fixed, ...loaded];
  const result = resolve(input, layers);
  if (!result.ok) {
    const ErrorClass = result.onlyMissingSecrets ? MissingSecretError : ConfigValidationError;
    throw new ErrorClass(options.service, realm, result.issues);
  }
  const config = new SmartConfig<ConfigValue<S, D>>(
    options.service,
    input,
    layers,
    result.value as ConfigValue<S, D>,
    result.provenance,
    result.rejected,
  );
  await config.accepted(sources, context);
  await config.watch(sources, context);
  return config;
}
