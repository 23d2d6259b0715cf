import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type GeneratedFile, generate, ownVersion } from '../src/index.ts';
import { REPO } from './helper.ts';

const packageJson = (files: GeneratedFile[]) =>
  JSON.parse(files.find((f) => f.path === 'package.json')?.contents ?? '{}');

// The packages a service's files import (bare specifiers, without subpaths).
function imported(files: GeneratedFile[]): Set<string> {
  const names = new Set<string>();
  for (const file of files.filter((f) => /\.(ts|js|hbs)$/.test(f.path))) {
    for (const [, specifier] of file.contents.matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)) {
      const name = (specifier as string).startsWith('@')
        ? (specifier as string).split('/').slice(0, 2).join('/')
        : ((specifier as string).split('/')[0] as string);
      if (!name.startsWith('node:') && !builtinModules.includes(name)) names.add(name);
    }
  }
  return names;
}

// Dependencies used through a script or a tool rather than an import, and why.
const TOOLS: Record<string, string> = {
  'smart-dev': '`smart dev` (the dev script) is in it',
  'smart-atlas': "the README's admin commands (smart-atlas services, config set)",
  typescript: 'tsc: typecheck and build',
  vite: "vitest's peer dependency",
  '@types/node': "Node's types for tsc",
  plop: 'the generate script',
};

const paths = async (db: boolean, redis: boolean) =>
  (await generate({ name: 'orders', db, redis, packageManager: 'pnpm' })).map((f) => f.path);

describe('generate (answers in, files out, nothing written)', () => {
  it('renders every template, with dotfiles named and no handlebars left outside the plop templates', async () => {
    const files = await generate({ name: 'orders', db: true, redis: true, packageManager: 'pnpm' });
    const names = files.map((f) => f.path);
    for (const expected of [
      '.gitignore',
      '.dockerignore',
      '.env.example',
      'Dockerfile',
      'k8s/deployment.yaml',
      'src/config.ts',
      'src/app.ts',
      'src/server.ts',
      'src/routes/hello.ts',
      'migrations/0001_create_greetings.ts',
      'plopfile.js',
      'README.md',
    ]) {
      expect(names).toContain(expected);
    }
    for (const file of files) {
      if (!/^(plop-templates\/|plopfile\.js$)/.test(file.path)) expect(file.contents, file.path).not.toMatch(/\{\{/);
    }
    const pkg = packageJson(files);
    // Our packages are released with the generator: ^ its own version, as its package.json says.
    const own = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version;
    expect(ownVersion()).toBe(own);
    // Installed, the code runs from dist/src/: the same package.json is found walking up.
    expect(ownVersion(join(import.meta.dirname, '..', 'dist', 'src'))).toBe(own);
    expect(() => ownVersion('/')).toThrow(/no package.json of create-smart-service/);
    expect(pkg).toMatchObject({
      name: 'orders',
      dependencies: { 'smart-service': `^${own}` },
      devDependencies: { 'smart-atlas': `^${own}`, 'smart-dev': `^${own}` },
    });
    expect(Object.keys(pkg.scripts)).toEqual(
      expect.arrayContaining(['dev', 'start', 'test', 'migrate', 'typecheck', 'build', 'generate']),
    );
  });

  it('adds the database and Redis parts only when asked', async () => {
    const plain = await paths(false, false);
    expect(plain.filter((p) => p.startsWith('migrations/'))).toEqual([]);
    expect(plain).not.toContain('test/db.test.ts');
    expect(plain).not.toContain('test/redis.test.ts');
    expect(plain).not.toContain('test/global-setup.ts');
    expect(await paths(true, false)).toEqual(expect.arrayContaining(['test/db.test.ts', 'test/global-setup.ts']));
    expect(await paths(false, true)).toContain('test/redis.test.ts');
    const app = (await generate({ name: 'orders', db: false, redis: true, packageManager: 'npm' })).find(
      (f) => f.path === 'src/app.ts',
    );
    expect(app?.contents).toContain('redis: true');
    expect(app?.contents).not.toContain('db: true');
  });

  it.each([
    { db: false, redis: false },
    { db: true, redis: false },
    { db: false, redis: true },
    { db: true, redis: true },
  ])('depends on what it imports and runs, and nothing else (db $db, redis $redis)', async ({ db, redis }) => {
    const files = await generate({ name: 'orders', db, redis, packageManager: 'pnpm' });
    const pkg = packageJson(files);
    const declared = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)];
    const used = imported(files);
    for (const name of used) expect(declared, `${name} is imported`).toContain(name);
    for (const name of declared) expect(used.has(name) || name in TOOLS, `${name} is declared but unused`).toBe(true);
    expect('kysely' in pkg.dependencies).toBe(db);
    expect(pkg.scripts.dev).toBe('smart dev');
    expect('migrate' in pkg.scripts).toBe(db);
    expect(files.some((f) => f.path === 'plop-templates/migration.ts.hbs')).toBe(db);
  });

  it('points dependencies at a checkout with --local-packages: link: for pnpm, file: for npm', async () => {
    const pnpm = await generate({
      name: 'orders',
      db: false,
      redis: false,
      packageManager: 'pnpm',
      localPackages: REPO,
    });
    expect(
      JSON.parse(pnpm.find((f) => f.path === 'package.json')?.contents ?? '{}').dependencies['smart-service'],
    ).toBe(`link:${REPO}/packages/smart-service`);
    expect(packageJson(pnpm).devDependencies['smart-atlas']).toBe(`link:${REPO}/packages/atlas`);
    expect(packageJson(pnpm).devDependencies['smart-dev']).toBe(`link:${REPO}/packages/smart-dev`);
    const npm = await generate({ name: 'orders', db: false, redis: false, packageManager: 'npm', localPackages: REPO });
    expect(JSON.parse(npm.find((f) => f.path === 'package.json')?.contents ?? '{}').dependencies['smart-service']).toBe(
      `file:${REPO}/packages/smart-service`,
    );
    await expect(
      generate({ name: 'orders', db: false, redis: false, packageManager: 'pnpm', localPackages: '/nowhere' }),
    ).rejects.toMatchObject({ code: 'SMART_CREATE_INVALID_OPTION' });
  });
});
