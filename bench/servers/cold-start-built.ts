// For cold-start.ts: smart-service as users run it, compiled JavaScript (the
// published packages' `publishConfig.exports` point at dist/), not the .ts
// sources Node type-strips in the workspace. Builds smart-service and the
// workspace packages it depends on with tsc into a temporary folder, each as
// it would be published (its tsconfig.build.json, package.json with the
// publish-time exports), its third-party dependencies linked to the very
// folders the workspace uses (same versions, same files), and copies the
// bench's smart-service hello server beside them.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules/.bin/tsc');

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  exports?: unknown;
  bin?: unknown;
  publishConfig?: { exports?: unknown; bin?: unknown };
}

const readPackage = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

// The workspace packages `name` needs (itself included), by name -> folder.
function workspaceClosure(name: string, found = new Map<string, string>()): Map<string, string> {
  const dir = join(root, 'packages', name);
  found.set(name, dir);
  for (const [dep, range] of Object.entries(readPackage(dir).dependencies ?? {}))
    if (range.startsWith('workspace:') && !found.has(dep)) workspaceClosure(dep, found);
  return found;
}

/** A built copy of smart-service and the server to start: `server`; `remove()` deletes it. */
export interface BuiltService {
  readonly server: string;
  remove(): void;
}

/**
 * Builds the published form of smart-service (and its workspace
 * dependencies) into a temporary folder.
 *
 * @example
 * const built = buildPublished();
 * spawn(process.execPath, [built.server]);
 * built.remove();
 */
export function buildPublished(): BuiltService {
  const out = mkdtempSync(join(tmpdir(), 'smart-cold-built-'));
  try {
    const packages = workspaceClosure('smart-service');
    for (const [name, dir] of packages) {
      const target = join(out, name);
      // Declarations are not loaded at run time: only the JavaScript (and its source maps) is emitted.
      execFileSync(
        tsc,
        [
          '-p',
          join(dir, 'tsconfig.build.json'),
          '--outDir',
          join(target, 'dist'),
          '--noCheck',
          '--declaration',
          'false',
          '--declarationMap',
          'false',
        ],
        { stdio: 'inherit' },
      );
      const pkg = readPackage(dir);
      const { publishConfig, ...published } = pkg;
      if (publishConfig?.exports) published.exports = publishConfig.exports;
      if (publishConfig?.bin) published.bin = publishConfig.bin;
      writeFileSync(join(target, 'package.json'), JSON.stringify(published, null, 2));
      // Its dependencies: workspace ones to their built copies, the rest to the workspace's install.
      mkdirSync(join(target, 'node_modules'));
      const installed = existsSync(join(dir, 'node_modules')) ? readdirSync(join(dir, 'node_modules')) : [];
      for (const entry of installed) {
        if (entry.startsWith('.')) continue;
        const link = join(target, 'node_modules', entry);
        symlinkSync(packages.has(entry) ? join(out, entry) : realpathSync(join(dir, 'node_modules', entry)), link);
      }
    }
    const server = join(out, 'server');
    mkdirSync(join(server, 'node_modules'), { recursive: true });
    writeFileSync(join(server, 'package.json'), '{ "type": "module" }\n');
    for (const file of ['smart-service.ts', 'report.ts'])
      copyFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url)), join(server, file));
    symlinkSync(join(out, 'smart-service'), join(server, 'node_modules', 'smart-service'));
    return {
      server: join(server, 'smart-service.ts'),
      remove: () => rmSync(out, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
}
