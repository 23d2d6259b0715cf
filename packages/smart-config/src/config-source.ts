import type { ConfigKey } from './config-keys.ts';
import { setPath, type Tree } from './deep.ts';

/** What a source is told about the config it feeds. */
export interface SourceContext {
  readonly service: string;
  readonly realm: string;
  /** Every key of the schema, with its env var name, kind and secrecy. */
  readonly keys: readonly ConfigKey[];
}

/** Stops a watch. */
export type Unwatch = () => void | Promise<void>;

/**
 * A layer of config. `load()` gives the source's values as a nested object,
 * or with dotted keys (`{ 'db.poolMax': 20 }`); strings are coerced to the
 * key's type. A source that can change while the service runs also has
 * `watch()`, which calls `onUpdate` with the source's complete new values.
 *
 * @example
 * const fromFile: ConfigSource = {
 *   name: 'file',
 *   load: async () => JSON.parse(await readFile('config.json', 'utf8')),
 * };
 */
export interface ConfigSource {
  /** Shown by `explain()` and in errors. Unique among a config's layers. */
  readonly name: string;
  /**
   * A runtime source (Atlas): its values are judged key by key. A bad value
   * is rejected and named (the key keeps its lower layers' value at start,
   * its last good value in a live update) while the other keys apply. The
   * environment and the source code's layers stay strict: a mistake there
   * fails the start.
   */
  readonly perKey?: boolean;
  load(context: SourceContext): Tree | Promise<Tree>;
  watch?(context: SourceContext, onUpdate: (values: Tree) => void): Unwatch | Promise<Unwatch>;
  /**
   * Told which of the values it last gave were applied: after the load and
   * after each update the config took, with the dotted keys it refused (a
   * per-key source's). Atlas's source saves its last-known-good copy here,
   * so the copy holds only values the service accepted.
   */
  accepted?(context: SourceContext, refused: readonly string[]): void | Promise<void>;
}

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment layer: `SMART_<KEY>` with `__` between nesting levels and
 * camelCase keys written in UPPER_SNAKE (`db.poolMax` is `SMART_DB__POOL_MAX`).
 * Values are coerced by the schema. The environment is read once, at load.
 *
 * @example
 * envSource({ SMART_DB__POOL_MAX: '20' })
 */
export function envSource(env: Env): ConfigSource {
  return {
    name: 'env',
    load({ keys }) {
      const values: Record<string, unknown> = {};
      for (const key of keys) {
        const raw = env[key.envVar];
        if (raw !== undefined) setPath(values, key.path, raw);
      }
      return values;
    },
  };
}

/** A source held in memory; `set()` replaces its values and notifies watchers. */
export interface MemorySource extends ConfigSource {
  /** Replaces every value of this source, as a watching source's update does. */
  set(values: Tree): void;
}

/**
 * An in-process, watchable source: for tests, for values computed at start,
 * and as the model of a live source (`set()` is a live update).
 *
 * @example
 * const overrides = memorySource('overrides', { log: { level: 'debug' } });
 * const config = await loadConfig(definition, { service: 'orders', sources: [overrides] });
 * overrides.set({ log: { level: 'info' } }); // config.value.log.level is now 'info'
 */
export function memorySource(name: string, initial: Tree = {}, options: { perKey?: boolean } = {}): MemorySource {
  let current = initial;
  const watchers = new Set<(values: Tree) => void>();
  return {
    name,
    ...(options.perKey ? { perKey: true } : {}),
    load: () => current,
    watch(_context, onUpdate) {
      watchers.add(onUpdate);
      return () => {
        watchers.delete(onUpdate);
      };
    },
    set(values) {
      current = values;
      for (const notify of watchers) notify(values);
    },
  };
}
