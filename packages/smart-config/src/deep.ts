import { isSecret } from './secret.ts';

/** A nested object of config values, as a layer holds them. */
export type Tree = { readonly [key: string]: unknown };

/** True for `{}`-style objects (not arrays, class instances or null). */
export function isPlainObject(value: unknown): value is Tree {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Segments that would reach an object's prototype: never a config key.
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/** True when a path segment could reach a prototype (refused everywhere). */
export function isUnsafeSegment(segment: string): boolean {
  return UNSAFE.has(segment);
}

/** The value at `path`, or undefined when any step is missing or not an object. */
export function getPath(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const segment of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

/** Sets `value` at `path` in a tree this module built (never a caller's object). */
export function setPath(tree: Record<string, unknown>, path: readonly string[], value: unknown): void {
  if (path.some(isUnsafeSegment)) return;
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (isPlainObject(next)) {
      node = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
    }
  }
  node[path[path.length - 1] as string] = value;
}

/** Copies plain objects and arrays; leaves every other value as it is. */
export function deepClone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepClone) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (!isUnsafeSegment(key)) copy[key] = deepClone(item);
    return copy as T;
  }
  return value;
}

/** Freezes plain objects and arrays all the way down, in place; returns the value. */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Structural equality for config values; secrets compare by their values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (isSecret(a) && isSecret(b)) return deepEqual(a.reveal(), b.reveal());
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof URL && b instanceof URL) return a.href === b.href;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

/**
 * Turns `{ 'db.poolMax': 5 }` into `{ db: { poolMax: 5 } }` so sources may
 * speak in dotted keys (as Atlas does) or in nested objects. Only top-level
 * keys are split: below them a dot belongs to the key (a record keyed by
 * host names). Keys that could reach a prototype are dropped. Returns a copy.
 */
export function expandDottedKeys(tree: Tree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const dotted: [string, unknown][] = [];
  for (const [key, value] of Object.entries(tree)) {
    if (isUnsafeSegment(key)) continue;
    if (key.includes('.')) dotted.push([key, value]);
    else out[key] = deepClone(value);
  }
  for (const [key, value] of dotted) setPath(out, key.split('.'), deepClone(value));
  return out;
}
