import { describe, expect, it } from 'vitest';
import { generate } from '../src/index.ts';
import { REPO } from './helper.ts';

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
    const pkg = JSON.parse(files.find((f) => f.path === 'package.json')?.contents ?? '{}');
    expect(pkg).toMatchObject({ name: 'orders', dependencies: { 'smart-service': '^0.1.0' } });
    expect(Object.keys(pkg.scripts)).toEqual(
      expect.arrayContaining(['dev', 'start', 'test', 'migrate', 'typecheck', 'build']),
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
    const npm = await generate({ name: 'orders', db: false, redis: false, packageManager: 'npm', localPackages: REPO });
    expect(JSON.parse(npm.find((f) => f.path === 'package.json')?.contents ?? '{}').dependencies['smart-service']).toBe(
      `file:${REPO}/packages/smart-service`,
    );
    await expect(
      generate({ name: 'orders', db: false, redis: false, packageManager: 'pnpm', localPackages: '/nowhere' }),
    ).rejects.toMatchObject({ code: 'SMART_CREATE_INVALID_OPTION' });
  });
});
