import type { z } from 'zod';

/** How a string from the environment becomes a value of the key's type. */
export type ValueKind = 'string' | 'number' | 'boolean' | 'bigint' | 'date' | 'json';

/** One leaf of the schema: what sources set, explain reports and errors name. */
export interface ConfigKey {
  /** Dotted key, e.g. `db.poolMax`. */
  readonly key: string;
  readonly path: readonly string[];
  /** The environment variable for this key, e.g. `SMART_DB__POOL_MAX`. */
  readonly envVar: string;
  readonly kind: ValueKind;
  /** Set from a `secret()` placeholder in the defaults. */
  readonly secret: boolean;
}

/** The prefix of every config environment variable. */
export const ENV_PREFIX = 'SMART_';

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  values?: unknown[];
};

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

// Wrappers that change optionality or defaults but not the shape of the value.
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function kindOf(schema: z.ZodType): ValueKind {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
    case 'enum':
    case 'template_literal':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'bigint';
    case 'date':
      return 'date';
    case 'literal': {
      const first = def.values?.[0];
      if (typeof first === 'number') return 'number';
      if (typeof first === 'boolean') return 'boolean';
      return typeof first === 'string' ? 'string' : 'json';
    }
    default:
      return 'json';
  }
}

/** `poolMax` -> `POOL_MAX`, `httpURL` -> `HTTP_URL`, `max-size` -> `MAX_SIZE`. */
export function toEnvSegment(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The environment variable that sets a dotted path. */
export function envVarFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map(toEnvSegment).join('__');
}

/**
 * Lists the leaves of an object schema. Nested objects are walked; anything
 * else (arrays, records, unions) is one key, set as a whole.
 */
export function collectKeys(schema: z.ZodType, secretKeys: ReadonlySet<string>, prefix: string[] = []): ConfigKey[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([name, child]) => collectKeys(child, secretKeys, [...prefix, name]));
  }
  const key = prefix.join('.');
  return [{ key, path: prefix, envVar: envVarFor(prefix), kind: kindOf(inner), secret: secretKeys.has(key) }];
}

/** True when the schema describes a nested object (whose leaves are keys). */
export function isObjectSchema(schema: z.ZodType): boolean {
  return defOf(unwrap(schema)).type === 'object';
}

/**
 * Paths of the nested objects that always exist in a merged tree (those not
 * wrapped in optional, nullable or a default), so that an object none of
 * whose keys is set still gets its keys' schema defaults.
 */
export function requiredObjectPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const def = defOf(schema);
  if (def.type === 'readonly' && def.innerType) return requiredObjectPaths(def.innerType, prefix);
  if (def.type !== 'object' || !def.shape) return [];
  const children = Object.entries(def.shape).flatMap(([name, child]) => requiredObjectPaths(child, [...prefix, name]));
  return prefix.length > 0 ? [prefix, ...children] : children;
}
