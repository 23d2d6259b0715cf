import { REALM_PATTERN } from 'smart-protocol';
import type { z } from 'zod';
import { type ConfigKey, collectKeys, isObjectSchema, requiredObjectPaths } from './config-keys.ts';
import { deepFreeze, expandDottedKeys, isPlainObject, type Tree } from './deep.ts';
import { InvalidDefinitionError } from './errors.ts';
import { type Secret, SecretPlaceholder } from './secret.ts';

/** Deep-partial input of a schema, where any leaf may be a `secret()` placeholder. */
export type DefaultsOf<T> = T extends readonly (infer E)[]
  ? readonly E[] | SecretPlaceholder<T>
  : T extends Record<string, unknown>
    ? { readonly [K in keyof T]?: DefaultsOf<T[K]> }
    : T | SecretPlaceholder<NonNullable<T>>;

/** Deep-partial input of a schema: what a realm may override. */
export type OverridesOf<T> = T extends readonly (infer E)[]
  ? readonly E[]
  : T extends Record<string, unknown>
    ? { readonly [K in keyof T]?: OverridesOf<T[K]> }
    : T;

/** A deeply readonly view of a config value; secrets stay `Secret`. */
export type DeepReadonly<T> = T extends Secret<unknown> | Date | ((...args: never[]) => unknown)
  ? T
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

type WithSecrets<V, D> =
  D extends SecretPlaceholder<unknown>
    ? Secret<Exclude<V, undefined>> | Extract<V, undefined>
    : V extends readonly unknown[]
      ? V
      : V extends Record<string, unknown>
        ? D extends Record<string, unknown>
          ? { [K in keyof V]: K extends keyof D ? WithSecrets<V[K], D[K]> : V[K] }
          : V
        : V;

/** The typed config value of a schema and its defaults: the schema's output, secrets wrapped. */
export type ConfigValue<S extends z.ZodObject, D> = DeepReadonly<WithSecrets<z.output<S>, D>>;

/** What `defineConfig` takes. */
export interface ConfigSpec<S extends z.ZodObject, D extends DefaultsOf<z.input<S>>> {
  /** A zod object schema: the single source of the config's types and rules. */
  readonly schema: S;
  /** The module defaults; mark secrets with `secret()`. */
  readonly defaults: D;
  /** Overrides per realm name (`local`, `testing`, `production`, ...). */
  readonly realms?: { readonly [realm: string]: OverridesOf<z.input<S>> };
}

/** A validated config definition, ready for `loadConfig`. */
export interface ConfigDefinition<S extends z.ZodObject = z.ZodObject, D = unknown> {
  readonly schema: S;
  readonly defaults: D;
  readonly realms: { readonly [realm: string]: Tree };
  /** Every leaf key of the schema. */
  readonly keys: readonly ConfigKey[];
  /** Nested objects that exist even when none of their keys is set. */
  readonly objectPaths: readonly (readonly string[])[];
  /** The `secret()` placeholders, by dotted key. */
  readonly placeholders: ReadonlyMap<string, SecretPlaceholder>;
}

/** The config value type of a definition: `InferConfig<typeof definition>`. */
export type InferConfig<Def> = Def extends ConfigDefinition<infer S, infer D> ? ConfigValue<S, D> : never;

/** Realm names: lowercase letters, digits, `-` and `_`, starting with a letter (smart-protocol's rule). */
export { REALM_PATTERN };

function walk(tree: Tree, prefix: string[], visit: (path: string[], value: unknown) => void): void {
  for (const [name, value] of Object.entries(tree)) {
    const path = [...prefix, name];
    if (isPlainObject(value)) walk(value, path, visit);
    else visit(path, value);
  }
}

function checkLayer(label: string, tree: Tree, keys: ReadonlyMap<string, ConfigKey>, secrets: ReadonlySet<string>) {
  const problems: string[] = [];
  walk(tree, [], (path, value) => {
    // A plain object at a leaf key (a record's value) is walked into: accept its prefix.
    const key = [...path.keys()].map((i) => path.slice(0, path.length - i).join('.')).find((k) => keys.has(k));
    if (!key) problems.push(`${label} sets "${path.join('.')}", which the schema does not have`);
    else if (value instanceof SecretPlaceholder && label !== 'defaults') {
      problems.push(`${label} uses secret() at "${key}": mark secrets in defaults only`);
    } else if (value instanceof SecretPlaceholder && key !== path.join('.')) {
      problems.push(`defaults use secret() inside "${key}": a secret must be a whole key`);
    } else if (secrets.has(key) && label !== 'defaults') {
      problems.push(
        `${label} sets secret "${key}": secrets come from the environment or Atlas only (use secret({ local }) for a development value)`,
      );
    }
  });
  return problems;
}

function secretKeysOf(defaults: Tree): Map<string, SecretPlaceholder> {
  const found = new Map<string, SecretPlaceholder>();
  walk(defaults, [], (path, value) => {
    if (value instanceof SecretPlaceholder) found.set(path.join('.'), value);
  });
  return found;
}

/**
 * Declares a service's config: a zod schema (the types), module defaults
 * with `secret()` placeholders, and overrides per realm. Checks the shape of
 * everything at once, so a typo fails at import time, not in production.
 *
 * @example
 * export const definition = defineConfig({
 *   schema: z.object({ port: z.number().int(), db: z.object({ url: z.string(), poolMax: z.number() }) }),
 *   defaults: { port: 3000, db: { url: secret({ local: 'postgres://localhost/orders' }), poolMax: 10 } },
 *   realms: { production: { db: { poolMax: 50 } } },
 * });
 */
export function defineConfig<S extends z.ZodObject, const D extends DefaultsOf<z.input<S>>>(
  spec: ConfigSpec<S, D>,
): ConfigDefinition<S, D> {
  if (!spec || typeof spec !== 'object' || !spec.schema || !isObjectSchema(spec.schema)) {
    throw new InvalidDefinitionError('schema must be a zod object schema (z.object({ ... }))');
  }
  if (!isPlainObject(spec.defaults)) throw new InvalidDefinitionError('defaults must be a plain object');
  const defaults = deepFreeze(expandDottedKeys(spec.defaults));
  const placeholders = secretKeysOf(defaults);
  const secretKeys = new Set(placeholders.keys());
  const keys = collectKeys(spec.schema, secretKeys);
  const byKey = new Map(keys.map((key) => [key.key, key]));

  const problems: string[] = [];
  if (byKey.has('realm')) problems.push('"realm" is reserved (SMART_REALM selects the realm); rename the key');
  const byEnv = new Map<string, string>();
  for (const key of keys) {
    const other = byEnv.get(key.envVar);
    if (other) problems.push(`"${other}" and "${key.key}" both map to ${key.envVar}`);
    byEnv.set(key.envVar, key.key);
  }
  problems.push(...checkLayer('defaults', defaults, byKey, secretKeys));

  const realms: Record<string, Tree> = {};
  for (const [realm, overrides] of Object.entries(spec.realms ?? {})) {
    if (!REALM_PATTERN.test(realm)) problems.push(`realm name "${realm}" must match ${REALM_PATTERN}`);
    if (!isPlainObject(overrides)) {
      problems.push(`realm "${realm}" must be a plain object`);
      continue;
    }
    realms[realm] = deepFreeze(expandDottedKeys(overrides));
    problems.push(...checkLayer(`realm "${realm}"`, realms[realm], byKey, secretKeys));
  }
  if (problems.length > 0) throw new InvalidDefinitionError(`\n  - ${problems.join('\n  - ')}`);

  return Object.freeze({
    schema: spec.schema,
    // Same shape as the caller's (typed defaults have no dotted keys), but ours.
    defaults: defaults as unknown as D,
    realms: Object.freeze(realms),
    keys: Object.freeze(keys),
    objectPaths: Object.freeze(requiredObjectPaths(spec.schema)),
    placeholders,
  });
}
