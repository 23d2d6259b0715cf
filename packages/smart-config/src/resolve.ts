import type { z } from 'zod';
import { coerce } from './coerce.ts';
import type { ConfigKey } from './config-keys.ts';
import { deepClone, deepFreeze, getPath, setPath, type Tree } from './deep.ts';
import type { ConfigIssue } from './errors.ts';
import { Secret, SecretPlaceholder } from './secret.ts';

/** One layer's values, already normalized to a nested tree. */
export interface Layer {
  readonly name: string;
  readonly values: Tree;
}

/** A value one layer gave a key. */
export interface Candidate {
  readonly layer: string;
  readonly value: unknown;
}

/** Where one key's value came from. */
export interface Provenance {
  /** The layer that set the value, undefined when none did. */
  readonly winner: Candidate | undefined;
  /** Lower layers that also set the key, highest first. */
  readonly overridden: readonly Candidate[];
}

/** The parts of a definition that resolution needs. */
export interface ResolveInput {
  readonly schema: z.ZodType;
  readonly keys: readonly ConfigKey[];
  /** Nested objects to create even when no key inside them is set. */
  readonly objectPaths: readonly (readonly string[])[];
  readonly placeholders: ReadonlyMap<string, SecretPlaceholder>;
  readonly realm: string;
  /**
   * Layers whose values are judged key by key (runtime sources such as
   * Atlas): a bad value there is rejected and the key takes its next lower
   * layer's value, instead of failing the whole resolution.
   */
  readonly perKey?: ReadonlySet<string>;
}

export type Resolution =
  | {
      readonly ok: true;
      readonly value: Tree;
      readonly provenance: ReadonlyMap<string, Provenance>;
      /** Values of per-key layers that were refused (each key then took a lower layer's value). */
      readonly rejected: readonly ConfigIssue[];
    }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly onlyMissingSecrets: boolean };

interface Picked {
  readonly provenance: Provenance;
  readonly issue?: ConfigIssue;
  readonly missingSecret?: boolean;
  /** Values of per-key layers refused on the way down. */
  readonly rejected?: readonly ConfigIssue[];
}

// Highest layer first: the first layer that sets the key wins; a value that
// cannot be coerced is an issue only when it is the one that would win. A
// per-key layer's value that cannot be coerced, or that was refused by the
// schema (`excluded`), is passed over for the next layer's.
function pick(input: ResolveInput, key: ConfigKey, layers: readonly Layer[], excluded?: ReadonlySet<string>): Picked {
  const found: Candidate[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as Layer;
    const value = getPath(layer.values, key.path);
    if (value !== undefined && !(value instanceof SecretPlaceholder) && !excluded?.has(layer.name))
      found.push({ layer: layer.name, value });
  }
  const rejected: ConfigIssue[] = [];
  while (found.length > 0) {
    const [top, ...overridden] = found as [Candidate, ...Candidate[]];
    const coerced = coerce(key, top.value);
    if (coerced.ok) return { provenance: { winner: { layer: top.layer, value: coerced.value }, overridden }, rejected };
    const issue = { key: key.key, layer: top.layer, message: coerced.message, envVar: key.envVar };
    if (!input.perKey?.has(top.layer)) return { provenance: { winner: undefined, overridden: found }, issue, rejected };
    rejected.push(issue);
    found.shift();
  }
  const overridden: Candidate[] = [];
  if (rejected.length > 0) return { ...unset(input, key, overridden), rejected };
  return unset(input, key, overridden);
}

// No layer sets the key: a secret's local value, or nothing (an issue for a required secret).
function unset(input: ResolveInput, key: ConfigKey, overridden: Candidate[]): Picked {
  const placeholder = input.placeholders.get(key.key);
  if (!placeholder) return { provenance: { winner: undefined, overridden } };
  if (input.realm === 'local' && placeholder.local !== undefined) {
    return { provenance: { winner: { layer: 'defaults', value: placeholder.local }, overridden } };
  }
  if (placeholder.optional) return { provenance: { winner: undefined, overridden } };
  const message = 'secret is not set: give it in the environment or a runtime source (Atlas)';
  const issue = { key: key.key, layer: 'unset', message, envVar: key.envVar };
  return { provenance: { winner: undefined, overridden }, issue, missingSecret: true };
}

function secretMessage(issue: z.core.$ZodIssue): string {
  const bound =
    'minimum' in issue ? ` (minimum ${issue.minimum})` : 'maximum' in issue ? ` (maximum ${issue.maximum})` : '';
  return `invalid value: ${issue.code.replaceAll('_', ' ')}${bound} (a secret: the value is not shown)`;
}

function keyForPath(keys: readonly ConfigKey[], path: readonly PropertyKey[]): ConfigKey | undefined {
  return keys.find((key) => key.path.length <= path.length && key.path.every((segment, i) => segment === path[i]));
}

function schemaIssues(
  input: ResolveInput,
  error: z.ZodError,
  provenance: ReadonlyMap<string, Provenance>,
  reported: ReadonlySet<string>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const key = keyForPath(input.keys, issue.path);
    const name = key?.key ?? issue.path.map(String).join('.');
    if (reported.has(name)) continue;
    // Any message can quote the input (custom checks, `error` functions, a
    // customError map): for a secret, say only which kind of check failed.
    const message = key?.secret ? secretMessage(issue) : issue.message;
    const layer = (key && provenance.get(key.key)?.winner?.layer) ?? 'unset';
    issues.push({ key: name, layer, message, envVar: key?.envVar });
  }
  return issues;
}

/**
 * Merges layers (low to high precedence) key by key, validates the result
 * against the schema and wraps secrets. Never mutates a layer; the value it
 * returns is a fresh, deeply frozen tree.
 *
 * A value from a per-key layer (`input.perKey`) that the key's type or the
 * schema refuses is rejected on its own: the key falls back to its next
 * lower layer and the rest is judged again (once per rejected key at most),
 * so one bad key from Atlas neither fails a start nor blocks other keys.
 */
export function resolve(input: ResolveInput, layers: readonly Layer[]): Resolution {
  const excluded = new Map<string, Set<string>>();
  const rejected: ConfigIssue[] = [];
  for (let round = 0; ; round++) {
    const result = resolveOnce(input, layers, excluded);
    if (result.ok) {
      rejected.push(...result.rejected);
      // In the schema's key order, however the rounds found them.
      const order = new Map(input.keys.map((key, i) => [key.key, i]));
      rejected.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
      return { ...result, rejected };
    }
    // Schema issues on keys won by a per-key layer: reject those values and judge again.
    let more = false;
    for (const issue of result.issues) {
      const winner = result.provenance.get(issue.key)?.winner;
      if (!winner || !input.perKey?.has(winner.layer) || round > input.keys.length) continue;
      const set = excluded.get(issue.key) ?? new Set<string>();
      if (set.has(winner.layer)) continue;
      set.add(winner.layer);
      excluded.set(issue.key, set);
      rejected.push({ ...issue, layer: winner.layer });
      more = true;
    }
    if (!more) return { ok: false, issues: result.issues, onlyMissingSecrets: result.onlyMissingSecrets };
  }
}

type Once =
  | (Extract<Resolution, { ok: true }> & { readonly ok: true })
  | {
      readonly ok: false;
      readonly issues: readonly ConfigIssue[];
      readonly onlyMissingSecrets: boolean;
      readonly provenance: ReadonlyMap<string, Provenance>;
    };

function resolveOnce(input: ResolveInput, layers: readonly Layer[], excluded: ReadonlyMap<string, Set<string>>): Once {
  const merged: Record<string, unknown> = {};
  for (const path of input.objectPaths) setPath(merged, path, {});
  const provenance = new Map<string, Provenance>();
  const issues: ConfigIssue[] = [];
  let missingSecrets = 0;
  const rejected: ConfigIssue[] = [];
  for (const key of input.keys) {
    const picked = pick(input, key, layers, excluded.get(key.key));
    provenance.set(key.key, picked.provenance);
    if (picked.issue) issues.push(picked.issue);
    if (picked.rejected) rejected.push(...picked.rejected);
    if (picked.missingSecret) missingSecrets++;
    const winner = picked.provenance.winner;
    if (winner) setPath(merged, key.path, deepClone(winner.value));
  }

  let parsed: ReturnType<z.ZodType['safeParse']>;
  try {
    // Without zod's JIT: it compiles a parser per object schema (new Function)
    // to pay off over many parses; a config is parsed at start and at each
    // change, and the compiling was most of a start's parse (10 ms of 16).
    parsed = input.schema.safeParse(merged, { jitless: true });
  } catch (err) {
    // A transform or refinement threw: report it without its message, which may quote a secret.
    const name = err instanceof Error ? err.name : typeof err;
    issues.push({ key: '', layer: 'schema', message: `a transform or check in the schema threw ${name}` });
    return { ok: false, issues, onlyMissingSecrets: false, provenance };
  }
  if (!parsed.success) {
    issues.push(...schemaIssues(input, parsed.error, provenance, new Set(issues.map((issue) => issue.key))));
  }
  if (issues.length > 0 || !parsed.success) {
    return { ok: false, issues, onlyMissingSecrets: missingSecrets === issues.length, provenance };
  }

  const value = parsed.data as Record<string, unknown>;
  for (const key of input.keys) {
    const resolved = key.secret ? getPath(value, key.path) : undefined;
    if (resolved !== undefined) setPath(value, key.path, new Secret(resolved));
  }
  return { ok: true, value: deepFreeze(value), provenance, rejected };
}
