import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectPackageManager } from '../src/index.ts';
import { create, REPO, tempDir } from './helper.ts';

// What each runner sets for what it runs (npx and npm exec, pnpm create and pnpm dlx, yarn create, bunx).
const NPX = 'npm/11.6.2 node/v24.11.0 linux x64 workspaces/false';
const PNPM = 'pnpm/12.21.0 npm/? node/v24.11.0 linux x64';
const YARN = 'yarn/1.22.22 npm/? node/v24.11.0 linux x64';
const BUN = 'bun/1.3.1 npm/? node/v24.11.0 linux x64';

describe('the package manager that ran the command', () => {
  it('is read from npm_config_user_agent; yarn and bun fall back to npm with a note; none is npm', () => {
    expect(detectPackageManager(NPX)).toEqual({ name: 'npm', version: '11.6.2' });
    expect(detectPackageManager(PNPM)).toEqual({ name: 'pnpm', version: '12.21.0' });
    expect(detectPackageManager(YARN)).toMatchObject({
      name: 'npm',
      note: expect.stringMatching(/yarn is not supported/),
    });
    expect(detectPackageManager(BUN)).toMatchObject({
      name: 'npm',
      note: expect.stringMatching(/bun is not supported/),
    });
    expect(detectPackageManager(undefined)).toEqual({ name: 'npm' });
    expect(detectPackageManager('')).toEqual({ name: 'npm' });
  });

  // The service as each runner leaves it: its package.json, scripts, Dockerfile, CI and next steps.
  async function generated(agent: string, flags: string[] = []) {
    const cwd = tempDir();
    const ran = await create(['orders', '--no-install', '--no-git', '--local-packages', REPO, ...flags], cwd, {
      npm_config_user_agent: agent,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const read = (path: string) => readFileSync(join(cwd, 'orders', path), 'utf8');
    return { ran, pkg: JSON.parse(read('package.json')), read };
  }

  it('npx create-smart-service: a service for npm', async () => {
    const { ran, pkg, read } = await generated(NPX);
    expect(pkg.packageManager).toBeUndefined();
    expect(pkg.dependencies['smart-service']).toBe(`file:${REPO}/packages/smart-service`);
    expect(read('Dockerfile')).toContain('COPY package.json package-lock.json ./');
    expect(read('Dockerfile')).toContain('RUN npm ci --omit=dev');
    expect(read('.github/workflows/ci.yml')).toContain('cache: npm');
    expect(read('README.md')).toContain('npm run dev');
    expect(ran.stdout).toContain('  npm install\n');
    expect(ran.stdout).toContain('  npm run dev');
    expect(ran.stderr).not.toContain('note:');
  });

  it('pnpm create smart-service: a service for pnpm, CI and image on the pnpm that ran it', async () => {
    const { ran, pkg, read } = await generated(PNPM);
    expect(read('.github/workflows/ci.yml')).toContain('version: 12.21.0');
    expect(pkg.dependencies['smart-service']).toBe(`link:${REPO}/packages/smart-service`);
    expect(read('Dockerfile')).toContain('COPY package.json pnpm-lock.yaml ./');
    expect(read('Dockerfile')).toContain('pnpm@12.21.0 && pnpm install --prod --frozen-lockfile');
    expect(read('.github/workflows/ci.yml')).toContain('cache: pnpm');
    expect(ran.stdout).toContain('  pnpm install\n');
  });

  it('yarn or bun: npm, and a note that says so', async () => {
    for (const agent of [YARN, BUN]) {
      const { ran, pkg } = await generated(agent);
      expect(pkg.dependencies['smart-service']).toMatch(/^file:/);
      expect(ran.stderr).toMatch(/note: (yarn|bun) is not supported yet: the service is written for npm/);
    }
  });

  it('--package-manager wins over the one that ran the command (and no note then)', async () => {
    const npm = await generated(PNPM, ['--package-manager', 'npm']);
    expect(npm.pkg.dependencies['smart-service']).toMatch(/^file:/);
    const pnpm = await generated(YARN, ['--package-manager', 'pnpm']);
    expect(pnpm.pkg.dependencies['smart-service']).toMatch(/^link:/);
    // Not run by pnpm: its version comes from the pnpm on the PATH.
    expect(pnpm.read('Dockerfile')).toMatch(/pnpm@\d+\.\d+\.\d+ && pnpm install --prod/);
    expect(pnpm.ran.stderr).not.toContain('note:');
  });
});
