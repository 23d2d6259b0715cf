// End to end, as a user: generate against this repository's packages,
// install, run the service's own tests, start it with its start script, call
// it, SIGTERM it; then run each micro-generator and the tests again.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create, descendant, exited, freePort, REPO, run, spawn, tempDir, waitFor200 } from './helper.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const serviceEnv = { SMART_REDIS__URL: redisUrl, SMART_LOG__LEVEL: 'warn' };
const timings: string[] = [];

async function startAndStop(dir: string, path: string) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('pnpm', ['start'], {
    cwd: dir,
    env: { ...process.env, ...serviceEnv, SMART_HTTP__PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  try {
    await waitFor200(`http://127.0.0.1:${port}/health/ready`);
    const readyMs = performance.now() - started;
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    expect(res.status).toBe(200);
    // pnpm runs the script through sh: SIGTERM goes to the service itself, as a container runtime would send it.
    const node = await descendant(child.pid as number, 'src/server.ts');
    expect(node).toBeGreaterThan(0);
    process.kill(node as number, 'SIGTERM');
    expect(await exited(child)).toBe(0);
    return { readyMs, body: await res.json() };
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output}`);
  }
}

describe.each([
  { variant: 'plain', flags: [] as string[], expected: { message: 'hello, ann', realm: 'local' } },
  { variant: '--db', flags: ['--db'], expected: { message: 'hello, ann', greeted: 1 } },
  { variant: '--redis', flags: ['--redis'], expected: { message: 'hello, ann' } },
])('create-smart-service $variant', ({ variant, flags, expected }) => {
  it('generates, installs, passes its tests, starts, answers, stops on SIGTERM with exit 0; micro-generators keep it green', async () => {
    const cwd = tempDir();
    const dry = tempDir();
    const noInstall = await create(['orders', ...flags, '--no-install', '--local-packages', REPO], dry);
    expect(noInstall.code, noInstall.stderr).toBe(0);

    const created = await create(['orders', ...flags, '--local-packages', REPO], cwd);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/installed dependencies with pnpm in \d+ s/);
    expect(created.stdout).toContain('next:');
    const dir = join(cwd, 'orders');
    expect((await run('git', ['log', '--oneline'], dir)).stdout).toContain('A new smart service');

    const tests = await run('pnpm', ['test'], dir, serviceEnv);
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/Tests\s+.*\d+ passed/);

    const { readyMs, body } = await startAndStop(dir, '/hello/ann');
    expect(body).toMatchObject(expected);
    timings.push(
      `${variant}: --no-install ${Math.round(noInstall.ms)} ms; with install ${Math.round(created.ms)} ms, then ready ${Math.round(readyMs)} ms after start: ${Math.round(created.ms + readyMs)} ms from command to a ready service`,
    );

    for (const [generator, item] of [
      ['route', 'list-orders'],
      ['check', 'payments-api'],
      ...(flags.includes('--db') ? [['migration', 'add-orders']] : []),
    ]) {
      const generated = await run('pnpm', ['exec', 'plop', generator as string, item as string], dir);
      expect(generated.code, generated.stdout + generated.stderr).toBe(0);
    }
    expect(existsSync(join(dir, 'src/routes/list-orders.ts'))).toBe(true);
    expect(existsSync(join(dir, 'src/checks/payments-api.ts'))).toBe(true);
    if (flags.includes('--db')) expect(existsSync(join(dir, 'migrations/0002_add_orders.ts'))).toBe(true);
    const typecheck = await run('pnpm', ['typecheck'], dir);
    expect(typecheck.code, typecheck.stdout + typecheck.stderr).toBe(0);
    const again = await run('pnpm', ['test'], dir, serviceEnv);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('list-orders.test.ts');
    expect(again.stdout).toContain('payments-api-check.test.ts');
    console.log(timings.at(-1));
  });
});
