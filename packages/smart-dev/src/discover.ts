import { existsSync, readFileSync, statSync } from 'node:fs';
import { glob, readdir, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { SERVICE_NAME_PATTERN } from 'smart-protocol';
import { z } from 'zod';
import { DevError, devErrorCodes } from './errors.ts';

/** One service `smart dev` runs: where it is, what it starts, what it adds to the environment. */
export interface ServiceSpec {
  readonly name: string;
  /** Absolute folder of the service: the child's working directory, and what is watched. */
  readonly dir: string;
  /** The file `node` runs, relative to `dir`. */
  readonly entry: string;
  /** Extra environment from the manifest. */
  readonly env: Readonly<Record<string, string>>;
}

/** The manifest's file name, in the root folder. */
export const MANIFEST = 'smart-dev.json';
export const DEFAULT_ENTRY = 'src/server.ts';
// The same rule as createSmartService's `name`, so a service is found in Atlas under its folder's name.
const NAME = SERVICE_NAME_PATTERN;

const longForm = z.strictObject({
  dir: z.string().min(1),
  entry: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
});
const manifestSchema = z.strictObject({
  services: z.record(z.string(), z.union([z.string().min(1), longForm])),
});

function badManifest(file: string, why: string): DevError {
  return new DevError(devErrorCodes.badManifest, `${file}: ${why}`);
}

async function fromManifest(root: string, file: string): Promise<ServiceSpec[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw badManifest(file, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badManifest(file, `${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return Object.entries(parsed.data.services).map(([name, value]) => {
    if (!NAME.test(name)) throw badManifest(file, `"${name}": service names are kebab-case (a-z, 0-9, -), as in Atlas`);
    const item = typeof value === 'string' ? { dir: value } : value;
    const dir = resolve(root, item.dir);
    const entry = item.entry ?? DEFAULT_ENTRY;
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw badManifest(file, `${name}: ${item.dir} is not a folder`);
    if (isAbsolute(entry) || !existsSync(join(dir, entry)))
      throw badManifest(file, `${name}: ${join(item.dir, entry)} does not exist`);
    return { name, dir, entry, env: item.env ?? {} };
  });
}

const isService = (dir: string) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, DEFAULT_ENTRY));

// The `packages:` list of a pnpm-workspace.yaml: a flat list of quoted or bare
// globs, which is all pnpm itself documents; no YAML library needed for that.
export function workspacePatterns(yaml: string): string[] {
  const patterns: string[] = [];
  let inPackages = false;
  for (const line of yaml.split(/\r?\n/)) {
    if (/^packages\s*:/.test(line)) {
      inPackages = true;
      continue;
    }
    if (!inPackages || /^\s*(#.*)?$/.test(line)) continue;
    const item = /^\s+-\s*(['"]?)(.+?)\1\s*(#.*)?$/.exec(line);
    if (!item?.[2]) break; // the next top-level key
    patterns.push(item[2]);
  }
  return patterns;
}

async function workspaceDirs(root: string): Promise<string[]> {
  const file = join(root, 'pnpm-workspace.yaml');
  if (!existsSync(file)) return [];
  const patterns = workspacePatterns(await readFile(file, 'utf8'));
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const dirs: string[] = [];
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    for await (const match of glob(pattern, { cwd: root, exclude: (name) => name === 'node_modules' })) {
      dirs.push(resolve(root, match));
    }
  }
  const excluded = new Set<string>();
  for (const pattern of exclude)
    for await (const match of glob(pattern, { cwd: root })) excluded.add(resolve(root, match));
  return dirs.filter((dir) => !excluded.has(dir));
}

// A package.json name without its scope, when Atlas accepts it.
function packageName(dir: string): string | undefined {
  try {
    const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof name !== 'string') return undefined; // String(undefined) would be the name 'undefined'
    const bare = name.replace(/^@[^/]+\//, '');
    return NAME.test(bare) ? bare : undefined;
  } catch {
    return undefined;
  }
}

// The folder's name; else its package.json name without the scope (a
// folder called `Orders_v2` holding the package `@shop/orders`).
const serviceName = (dir: string) => (NAME.test(basename(dir)) ? basename(dir) : packageName(dir));

// A folder that is itself one service is named after its package first: its
// folder's name is whatever it was cloned or generated into (`orders-main`,
// a temp folder), while a generated service registers in Atlas under its
// package's name, which smart dev waits for.
const ownServiceName = (dir: string) => packageName(dir) ?? (NAME.test(basename(dir)) ? basename(dir) : undefined);

async function fromFolders(root: string): Promise<ServiceSpec[]> {
  const children = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
    .map((d) => join(root, d.name));
  const candidates = [...new Set([...children, ...(await workspaceDirs(root))])].filter(isService);
  // A single service's own folder: `smart dev` inside it runs just that one.
  const single = candidates.length === 0 && isService(root);
  if (single) candidates.push(root);
  const specs = new Map<string, ServiceSpec>();
  for (const dir of candidates.sort()) {
    const name = single ? ownServiceName(dir) : serviceName(dir);
    if (!name) continue; // no name Atlas accepts: not something smart dev can run
    const other = specs.get(name);
    if (other) {
      throw new DevError(
        devErrorCodes.badManifest,
        `two services are named ${name} (${relative(root, other.dir)} and ${relative(root, dir)}): name them in ${MANIFEST}`,
      );
    }
    specs.set(name, { name, dir, entry: DEFAULT_ENTRY, env: {} });
  }
  return [...specs.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The services of a folder: the ones `smart-dev.json` names, or else every
 * immediate subfolder (and every pnpm workspace package) that has a
 * `package.json` and a `src/server.ts`, named after its folder. When there
 * are none and the folder is itself such a service (`smart dev` in a
 * generated service's folder), that one, named after its package.
 *
 * @example
 * await discoverServices('/code/shop'); // [{ name: 'orders', dir: '/code/shop/orders', entry: 'src/server.ts', env: {} }]
 */
export async function discoverServices(root: string, only?: readonly string[]): Promise<ServiceSpec[]> {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new DevError(devErrorCodes.invalidOption, `${root} is not a folder`);
  }
  const manifest = join(root, MANIFEST);
  const found = existsSync(manifest) ? await fromManifest(root, manifest) : await fromFolders(root);
  if (found.length === 0) {
    throw new DevError(
      devErrorCodes.noServices,
      `no services in ${root}: add ${MANIFEST} ({ "services": { "name": "dir" } }) or folders with package.json and ${DEFAULT_ENTRY}`,
    );
  }
  if (!only || only.length === 0) return found;
  const names = new Set(found.map((s) => s.name));
  const unknown = only.filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new DevError(
      devErrorCodes.unknownService,
      `no service named ${unknown.join(', ')} in ${root} (there are: ${[...names].join(', ')})`,
    );
  }
  return found.filter((s) => only.includes(s.name));
}
