// Checks what each public package would publish, from the tarball pnpm packs
// (so `publishConfig` and `workspace:` versions are applied as on publish):
//   - publint (--strict): package.json fields against the packed files;
//   - arethetypeswrong (esm-only profile): the types resolve for ESM
//     consumers under node16 and bundler resolution;
//   - our own rules: every export and bin target is in the tarball and is
//     JavaScript (Node refuses to strip types under node_modules), bins have a
//     shebang, nothing test-only or workspace-only is packed, no `workspace:`
//     or `link:` version is left, engines.node is set.
// Run after `pnpm build`:  node scripts/check-packages.ts [package-folder...]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  engines?: { node?: string };
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The folders of the packages that are published. */
export function publicPackages(): string[] {
  return readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => {
      try {
        return !(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest).private;
      } catch {
        return false;
      }
    });
}

const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// Test-only and workspace-only files that must never be published.
const UNWANTED = [
  /(^|\/)test\//,
  /\.test\.[cm]?[jt]s$/,
  /(^|\/)vitest\.config\./,
  /(^|\/)tsconfig(\.[a-z]+)?\.json$/,
  /(^|\/)\.smart\//,
  /(^|\/)node_modules\//,
  /\.tsbuildinfo$/,
];

function ownRules(manifest: Manifest, files: Set<string>): string[] {
  const problems: string[] = [];
  if (!manifest.engines?.node) problems.push('engines.node is not set');
  // create-smart-service's template is a service of its own: its tests and tsconfig are meant to be packed.
  for (const file of files)
    if (!file.startsWith('templates/') && UNWANTED.some((re) => re.test(file))) problems.push(`packs ${file}`);
  const targets: string[] = [];
  for (const entry of Object.values(manifest.exports ?? {})) {
    if (typeof entry === 'string') targets.push(entry);
    else targets.push(...Object.values(entry));
  }
  for (const [name, bin] of Object.entries(manifest.bin ?? {})) {
    targets.push(bin);
    const path = bin.replace(/^\.\//, '');
    if (!path.endsWith('.js')) problems.push(`bin ${name} is ${bin}, not JavaScript`);
  }
  for (const target of targets) {
    const path = target.replace(/^\.\//, '');
    if (!files.has(path)) problems.push(`${target} is not in the tarball`);
    if (/\.[cm]?ts$/.test(path) && !/\.d\.[cm]?ts$/.test(path)) problems.push(`${target} is TypeScript`);
  }
  for (const [dep, version] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (/^(workspace|link|file):/.test(version)) problems.push(`dependency ${dep}@${version}`);
  }
  return problems;
}

function checkPackage(dir: string, out: string): string[] {
  const packed = run('pnpm', ['pack', '--pack-destination', out, '--json'], dir);
  const { filename } = JSON.parse(packed) as { filename: string };
  const tarball = resolve(out, filename);
  const files = new Set(
    run('tar', ['tzf', tarball], dir)
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, '')),
  );
  const manifest = JSON.parse(run('tar', ['xzf', tarball, '-O', 'package/package.json'], dir)) as Manifest;
  const problems = ownRules(manifest, files);
  const tool = (bin: string, args: string[]) => {
    try {
      run(join(root, 'node_modules/.bin', bin), args, dir);
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      problems.push(`${bin}:\n${`${stdout}${stderr}`.trim()}`);
    }
  };
  tool('publint', ['run', tarball, '--strict']);
  tool('attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped']);
  console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${manifest.name}@${manifest.version}: ${files.size} files`);
  for (const problem of problems) console.log(`     - ${problem.replaceAll('\n', '\n       ')}`);
  return problems;
}

if (import.meta.main) {
  const dirs = process.argv.length > 2 ? process.argv.slice(2).map((dir) => resolve(dir)) : publicPackages();
  const out = mkdtempSync(join(tmpdir(), 'smart-packs-'));
  try {
    const failed = dirs.filter((dir) => checkPackage(dir, out).length > 0);
    if (failed.length > 0) {
      console.log(`check-packages: ${failed.length} of ${dirs.length} packages have problems`);
      process.exit(1);
    }
    console.log(`check-packages: all ${dirs.length} packages pass publint, arethetypeswrong and the packing rules`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
