import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';

export const BIN = resolve(import.meta.dirname, '..', 'bin', 'create-smart-service.ts');
/** This repository: generated services depend on its packages (`--local-packages`). */
export const REPO = resolve(import.meta.dirname, '..', '..', '..');

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed after the file's tests. */
export function tempDir(prefix = 'css-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to its end (never throws on a non-zero exit). */
export async function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Ran> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 20_000_000,
    });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
      ms: performance.now() - started,
    };
  }
}

/** The bin, as a user runs it. */
export const create = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [BIN, ...args], cwd, env);

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** The pids of a process's children. */
export async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-P', String(pid)], '/');
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** The first descendant of `pid` whose command line contains `needle`. */
export async function descendant(pid: number, needle: string): Promise<number | undefined> {
  for (const child of await childrenOf(pid)) {
    const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg.endsWith(needle)) && !cmdline.startsWith('sh')) return child;
    const deeper = await descendant(child, needle);
    if (deeper) return deeper;
  }
  return undefined;
}

/** Waits for a child's exit code. */
export const exited = (child: ChildProcess) =>
  new Promise<number | null>((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });

/** Polls `url` until it answers 200 (or gives up). */
export async function waitFor200(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export { spawn };
