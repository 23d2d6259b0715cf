import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import nodePlop from 'node-plop';
import { CreateError, codes } from './errors.ts';
import type { PackageManager } from './package-manager.ts';
import { lockfileOf } from './steps.ts';

/** What the generator is asked for. */
export interface Answers {
  /** The service's package name (validated: kebab-case, optionally scoped). */
  readonly name: string;
  /** With a database (Postgres; PGlite in realm local): a migration, `app.db`, a db test. */
  readonly db: boolean;
  /** With Redis (`app.redis`). */
  readonly redis: boolean;
  readonly packageManager: PackageManager;
  /**
   * The package manager's version, when known (the one that ran the
   * command): CI and the Dockerfile install this pnpm. (Not a
   * `packageManager` field: with one, pnpm 12 manages its own version and
   * resolves an executable per platform on every install.)
   */
  readonly packageManagerVersion?: string | undefined;
  /**
   * A checkout of the smart-service repository: dependencies point at its
   * packages (`link:` for pnpm, `file:` for npm) instead of the registry.
   */
  readonly localPackages?: string | undefined;
}

/** One file of the new service. */
export interface GeneratedFile {
  /** Relative to the service's folder, with `/` separators. */
  readonly path: string;
  readonly contents: string;
}

/**
 * Where the service template is. Run from its TypeScript sources (this
 * repository's workspace), the generator reads the top-level
 * `templates/service`; installed, it runs from `dist/` and reads the copy
 * its build put in the package (`templates/service`). The file's own
 * extension tells which, so a stale built copy never shadows the sources.
 */
export const TEMPLATE_DIR = import.meta.filename.endsWith('.ts')
  ? resolve(import.meta.dirname, '..', '..', '..', 'templates', 'service')
  : resolve(import.meta.dirname, '..', '..', 'templates', 'service');

// npm drops dotfiles such as .gitignore from published packages: templates keep them as _name.
const DOTFILES = new Set(['_gitignore', '_dockerignore', '_env.example', '_github']);
// Files only a service with a database gets.
const DB_ONLY = [/^migrations\//, /^test\/db\.test\.ts/, /^test\/global-setup\.ts/, /^plop-templates\/migration\./];
const REDIS_ONLY = [/^test\/redis\.test\.ts/, /^test\/redis-reachable\.ts/];
// pnpm's own settings file: an npm service has no use for it.
const PNPM_ONLY = [/^pnpm-workspace\.yaml$/];
// The service's own plopfile and plop templates are copied as they are: they are rendered later, by the service's plop.
const RAW = /^(plop-templates\/|plopfile\.js$)/;

/**
 * create-smart-service's own version, read from its package.json (found
 * walking up from this file: `src/` in the workspace, `dist/src/` when
 * installed). The framework's packages are released together with it, so a
 * new service depends on `^<this version>` of each.
 *
 * @example
 * ownVersion(); // '0.1.0'
 */
export function ownVersion(from: string = import.meta.dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'create-smart-service' && pkg.version) return pkg.version;
  }
  throw new CreateError(codes.templateMissing, `no package.json of create-smart-service above ${from}`);
}

async function listTemplates(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

function outputPath(templatePath: string): string {
  const parts = templatePath.split('/');
  const file = parts.pop() as string;
  return [...parts, file.endsWith('.hbs') ? file.slice(0, -'.hbs'.length) : file]
    .map((part) => (DOTFILES.has(part) ? `.${part.slice(1)}` : part))
    .join('/');
}

/** The dependency specifier for one of this repository's packages. */
function specifier(answers: Answers, packageFolder: string): string {
  if (!answers.localPackages) return `^${ownVersion()}`;
  const path = resolve(answers.localPackages, 'packages', packageFolder);
  if (!existsSync(join(path, 'package.json'))) {
    throw new CreateError(
      codes.invalidOption,
      `--local-packages ${answers.localPackages} has no packages/${packageFolder}: point it at a smart-service checkout`,
    );
  }
  // pnpm links the folder; npm's file: on a folder is a symlink too. Either way the
  // package's real path is outside node_modules, where Node 24 runs its .ts sources.
  return `${answers.packageManager === 'pnpm' ? 'link' : 'file'}:${path}`;
}

/**
 * The new service as a list of files, rendered in memory by plop's
 * handlebars from `templates/service`: nothing is written here, so it can be
 * checked, tested and written at once.
 *
 * @example
 * const files = await generate({ name: 'orders', db: true, redis: false, packageManager: 'pnpm' });
 * files.map((f) => f.path); // ['.dockerignore', ..., 'src/app.ts', ...]
 */
export async function generate(answers: Answers): Promise<GeneratedFile[]> {
  if (!existsSync(TEMPLATE_DIR)) throw new CreateError(codes.templateMissing, `no templates at ${TEMPLATE_DIR}`);
  const plop = await nodePlop();
  plop.setHelper('eq', (a: unknown, b: unknown) => a === b);
  // Handlebars passes its options object last.
  plop.setHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  const folder = answers.name.replace(/^@[^/]+\//, '');
  const pnpm = answers.packageManager === 'pnpm';
  const data = {
    ...answers,
    folder,
    pnpm,
    smartServiceSpec: specifier(answers, 'smart-service'),
    // `dev` runs `smart dev`, which smart-service's `smart` hands to smart-dev
    // (with its own smart-atlas for the embedded Atlas); smart-atlas stays a
    // dev dependency of its own for the admin commands the README shows
    // (`smart-atlas services`, `config set`): a package manager puts only
    // direct dependencies' bins on the PATH.
    smartAtlasSpec: specifier(answers, 'atlas'),
    smartDevSpec: specifier(answers, 'smart-dev'),
    pnpmVersion: answers.packageManagerVersion ?? 'latest',
    containers: answers.db || answers.redis,
    run: pnpm ? 'pnpm' : 'npm run',
    exec: pnpm ? 'pnpm exec' : 'npx',
    install: pnpm ? 'pnpm install' : 'npm install',
    ciInstall: pnpm ? 'pnpm install --frozen-lockfile' : 'npm ci',
    lockfile: lockfileOf(answers.packageManager),
  };
  const files: GeneratedFile[] = [];
  for (const template of await listTemplates(TEMPLATE_DIR)) {
    const path = RAW.test(template) ? template : outputPath(template);
    if (!answers.db && DB_ONLY.some((pattern) => pattern.test(path))) continue;
    if (!answers.redis && REDIS_ONLY.some((pattern) => pattern.test(path))) continue;
    if (!pnpm && PNPM_ONLY.some((pattern) => pattern.test(path))) continue;
    const source = await readFile(join(TEMPLATE_DIR, template), 'utf8');
    files.push({ path, contents: RAW.test(path) ? source : plop.renderString(source, data) });
  }
  return files;
}
