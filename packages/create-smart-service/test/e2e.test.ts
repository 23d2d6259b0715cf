// End to end, as a user: generate against this repository's packages,
// install, run the service's own tests, start it with its start script, call
// it, SIGTERM it; then run each micro-generator and the tests again. Also:
// the first commit holds the lockfile, the Dockerfile's production install
// works on a copy of what is committed, `pnpm dev` (smart dev) serves the
// service with live config from its own Atlas, and a --redis service's tests
// say what they need when no Redis answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Copy, DockerfileParser, type JSONInstruction } from 'dockerfile-ast';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { create, descendant, exited, freePort, REPO, run, tempDir, waitFor200 } from './helper.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const serviceEnv = { SMART_REDIS__URL: redisUrl, SMART_LOG__LEVEL: 'warn' };
// As `pnpm create smart-service` runs it.
const PNPM_AGENT = { npm_config_user_agent: 'pnpm/12.21.0 npm/? node/v24.11.0 linux x64' };
const timings: string[] = [];

function started(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

/** Stops the node process running `needle` under `child` with SIGTERM, as a container runtime would; its exit code. */
async function terminate(child: ChildProcess, needle: string): Promise<number | null> {
  const node = await descendant(child.pid as number, needle);
  expect(node, `a process running ${needle}`).toBeGreaterThan(0);
  process.kill(node as number, 'SIGTERM');
  return exited(child);
}

async function startAndStop(dir: string, path: string) {
  const port = await freePort();
  const begun = performance.now();
  const { child, output } = started('pnpm', ['start'], dir, { ...serviceEnv, SMART_HTTP__PORT: String(port) });
  try {
    await waitFor200(`http://127.0.0.1:${port}/health/ready`);
    const readyMs = performance.now() - begun;
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    expect(res.status).toBe(200);
    // pnpm runs the script through sh: SIGTERM goes to the service itself.
    expect(await terminate(child, 'src/server.ts')).toBe(0);
    return { readyMs, body: await res.json() };
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
}

/**
 * What the image would do, without a Docker engine: the committed files the
 * Dockerfile copies exist, its production install runs in a copy of them,
 * and its CMD, with its ENV, answers /health/live and stops on SIGTERM.
 */
async function productionInstall(dir: string, variantEnv: NodeJS.ProcessEnv) {
  const dockerfile = DockerfileParser.parse(
    (await run('git', ['show', 'HEAD:Dockerfile'], dir)).stdout, // as committed
  );
  const tracked = new Set((await run('git', ['ls-files'], dir)).stdout.split('\n').filter(Boolean));
  // At the service's own depth: its lockfile's links to this checkout are relative paths.
  const image = join(tempDir('css-image-'), basename(dir));
  const instructions = dockerfile.getInstructions();
  for (const copy of instructions.filter((i) => i.getKeyword() === 'COPY') as Copy[]) {
    if (copy.getFlags().some((flag) => flag.getName() === 'from')) continue; // from the deps stage
    for (const source of copy
      .getArguments()
      .slice(0, -1)
      .map((a) => a.getValue())) {
      expect(
        [...tracked].some((p) => p === source || p.startsWith(`${source}/`)),
        `COPY ${source} is committed`,
      ).toBe(true);
      mkdirSync(dirname(join(image, source)), { recursive: true });
      cpSync(join(dir, source), join(image, source), { recursive: true });
    }
  }
  // The image installs pnpm first (here it is on the PATH), then the production dependencies.
  const install = (instructions.find((i) => i.getKeyword() === 'RUN')?.getArgumentsContent() ?? '')
    .split(' && ')
    .filter((command) => !command.startsWith('npm install --global'));
  expect(install).toEqual(['pnpm install --prod --frozen-lockfile']);
  const [command, ...args] = (install[0] as string).split(' ');
  const installed = await run(command as string, args, image, { CI: 'true' });
  expect(installed.code, installed.stdout + installed.stderr).toBe(0);
  expect(existsSync(join(image, 'node_modules', 'smart-service'))).toBe(true);
  expect(existsSync(join(image, 'node_modules', 'vitest'))).toBe(false); // production only

  const env: NodeJS.ProcessEnv = {};
  for (const line of instructions.filter((i) => i.getKeyword() === 'ENV')) {
    for (const pair of line.getArgumentsContent()?.split(/\s+/) ?? []) {
      const [key, value] = pair.split('=');
      env[key as string] = value;
    }
  }
  const cmd = (instructions.filter((i) => i.getKeyword() === 'CMD').at(-1) as JSONInstruction)
    .getJSONStrings()
    .map((s) => s.getJSONValue());
  expect(existsSync(join(image, cmd[1] as string))).toBe(true);
  const port = await freePort();
  const { child, output } = started(process.execPath, cmd.slice(1), image, {
    ...env,
    ...variantEnv,
    SMART_HTTP__PORT: String(port),
    SMART_API_KEY: 'an-api-key-for-the-e2e-test',
    SMART_LOG__LEVEL: 'warn',
    SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
  });
  try {
    await waitFor200(`http://127.0.0.1:${port}/health/live`);
    child.kill('SIGTERM'); // node is the process itself here, as in the image
    expect(await exited(child)).toBe(0);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
}

/**
 * The CI workflow's migrate step, with its env, against a real Postgres: a
 * database of its own on the test server (DATABASE_URL), dropped after.
 */
async function migrateAsCi(dir: string, serverUrl: string) {
  const workflow = parse((await run('git', ['show', 'HEAD:.github/workflows/ci.yml'], dir)).stdout);
  const step = workflow.jobs.test.steps.find((s: { run?: string }) => s.run === 'pnpm migrate');
  expect(step?.env?.SMART_DB__URL).toMatch(/^postgres:\/\//);
  const name = `css_e2e_${process.pid}_${Date.now()}`;
  const made = await run('psql', [serverUrl, '-c', `CREATE DATABASE ${name}`], dir);
  expect(made.code, made.stderr).toBe(0);
  onTestFinished(async () => {
    await run('psql', [serverUrl, '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], dir);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const migrated = await run('pnpm', ['migrate'], dir, { ...step.env, SMART_DB__URL: url.href });
  expect(migrated.code, migrated.stdout + migrated.stderr).toBe(0);
  expect(migrated.stdout).toContain('applied: 0001_create_greetings');
}

describe.each([
  { variant: 'plain', flags: [] as string[], expected: { message: 'hello, ann', realm: 'local' } },
  { variant: '--db', flags: ['--db'], expected: { message: 'hello, ann', greeted: 1 } },
  { variant: '--redis', flags: ['--redis'], expected: { message: 'hello, ann' } },
])('create-smart-service $variant', ({ variant, flags, expected }) => {
  it('generates, installs, commits the lockfile, passes its tests, starts, answers, stops on SIGTERM with exit 0; the production install works; micro-generators keep it green', async () => {
    const cwd = tempDir();
    const dry = tempDir();
    const noInstall = await create(['orders', ...flags, '--no-install', '--local-packages', REPO], dry, PNPM_AGENT);
    expect(noInstall.code, noInstall.stderr).toBe(0);

    const created = await create(['orders', ...flags, '--local-packages', REPO], cwd, PNPM_AGENT);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/installed dependencies with pnpm in \d+ s/);
    expect(created.stdout).toContain('next:');
    const dir = join(cwd, 'orders');
    expect((await run('git', ['log', '--oneline'], dir)).stdout).toContain('A new smart service');
    // The first commit is the whole service, its lockfile included: nothing left to add.
    expect((await run('git', ['status', '--porcelain'], dir)).stdout).toBe('');
    expect((await run('git', ['ls-files'], dir)).stdout.split('\n')).toContain('pnpm-lock.yaml');

    const tests = await run('pnpm', ['test'], dir, serviceEnv);
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/Tests\s+.*\d+ passed/);

    const { readyMs, body } = await startAndStop(dir, '/hello/ann');
    expect(body).toMatchObject(expected);
    timings.push(
      `${variant}: --no-install ${Math.round(noInstall.ms)} ms; with install ${Math.round(created.ms)} ms, then ready ${Math.round(readyMs)} ms after start: ${Math.round(created.ms + readyMs)} ms from command to a ready service`,
    );

    const productionStarted = performance.now();
    await productionInstall(dir, {
      ...(flags.includes('--db') && process.env.DATABASE_URL ? { SMART_DB__URL: process.env.DATABASE_URL } : {}),
      ...(flags.includes('--redis') ? { SMART_REDIS__URL: redisUrl } : {}),
    });
    timings.push(
      `${variant}: production install and /health/live ${Math.round(performance.now() - productionStarted)} ms`,
    );

    if (flags.includes('--db')) {
      // The root vitest global setup starts a Postgres when DATABASE_URL is unset.
      expect(process.env.DATABASE_URL, 'DATABASE_URL').toBeTruthy();
      await migrateAsCi(dir, process.env.DATABASE_URL as string);
      timings.push(`${variant}: the CI workflow's migrate step applied the migrations to Postgres`);
    }

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

    if (flags.includes('--redis')) {
      // No Redis where the tests look: one clear message naming the URL and the variable, not ioredis's.
      const closed = `redis://127.0.0.1:${await freePort()}`;
      const without = await run('pnpm', ['test'], dir, { SMART_REDIS__URL: closed });
      const output = without.stdout + without.stderr;
      expect(without.code, output).not.toBe(0);
      expect(output).toContain(`These tests need Redis, and none answers at ${closed} (`);
      expect(output).toContain('from SMART_REDIS__URL');
      expect(output).not.toContain("Stream isn't writeable");
    }
    for (const line of timings.filter((l) => l.startsWith(`${variant}:`))) console.log(line);
  });
});

describe('pnpm dev in a generated service', () => {
  it('runs the service under smart dev with its own Atlas: it answers, and config set in Atlas applies live', async () => {
    const cwd = tempDir();
    const created = await create(['orders', '--local-packages', REPO], cwd, PNPM_AGENT);
    expect(created.code, created.stderr).toBe(0);
    const dir = join(cwd, 'orders');
    const begun = performance.now();
    const env = { SMART_ATLAS_URL: '', SMART_LOG__LEVEL: 'info' };
    const { child, output } = started('pnpm', ['dev'], dir, env);
    try {
      const deadline = Date.now() + 60_000;
      while (!/ready: 1 service/.test(output()) && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 100));
      }
      const service = /orders\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
      const atlas = /atlas\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
      expect(service && atlas, output()).toBeTruthy();
      const readyMs = performance.now() - begun;
      expect(await (await fetch(`${service}/hello/ann`)).json()).toMatchObject({ message: 'hello, ann' });
      // As the README says: the service is in Atlas, and config set there applies without a restart.
      const listed = await run('pnpm', ['exec', 'smart-atlas', '--url', atlas as string, 'services'], dir);
      expect(listed.stdout, listed.stderr).toContain('orders');
      const set = await run(
        'pnpm',
        ['exec', 'smart-atlas', '--url', atlas as string, 'config', 'set', 'orders', 'local', 'greeting=hi'],
        dir,
      );
      expect(set.code, set.stdout + set.stderr).toBe(0);
      const until = Date.now() + 15_000;
      let message = '';
      while (message !== 'hi, ann' && Date.now() < until) {
        message = ((await (await fetch(`${service}/hello/ann`)).json()) as { message: string }).message;
        if (message !== 'hi, ann') await new Promise((done) => setTimeout(done, 100));
      }
      expect(message).toBe('hi, ann');
      expect(await terminate(child, 'smart.ts')).toBe(0);
      console.log(`pnpm dev: ready (Atlas and the service) ${Math.round(readyMs)} ms after start`);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${output()}`);
    }
  });
});
