// A user's shell, for the end-to-end tests: a home folder of its own, an
// environment built from scratch (nothing of this checkout's: no workspace
// bins on PATH, no SMART_* or npm_config_* inherited from the test runner),
// and the registry it was given as its only registry.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { descendant, exited, freePort, waitFor200 } from '../../packages/create-smart-service/test/helper.ts';

export interface Ran {
  readonly code: number;
  readonly out: string;
  readonly ms: number;
}

/** The folder a command is found in on the runner's PATH (the user has the same pnpm). */
function binDir(command: string): string {
  const dir = (process.env.PATH ?? '').split(':').find((entry) => entry && existsSync(join(entry, command)));
  if (!dir) throw new Error(`${command} is not on PATH`);
  return dir;
}

export interface UserOptions {
  /** The folder the user's home, caches and projects live in. */
  readonly dir: string;
  readonly registry: string;
  /** The Node whose `node` (and the system npm) comes first on PATH. */
  readonly nodeBin?: string;
}

/**
 * A user with Node, npm and pnpm, whose only registry is `registry`.
 *
 * @example
 * const ann = new User({ dir, registry: registry.url });
 * await ann.run('npx', ['--yes', 'create-smart-service', 'orders', '--yes'], ann.projects);
 */
export class User {
  readonly home: string;
  readonly projects: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(options: UserOptions) {
    this.home = join(options.dir, 'home');
    this.projects = join(options.dir, 'projects');
    mkdirSync(this.home, { recursive: true });
    mkdirSync(this.projects, { recursive: true });
    writeFileSync(
      join(this.home, '.npmrc'),
      `registry=${options.registry}\nfund=false\naudit=false\nupdate-notifier=false\n`,
    );
    const path = [options.nodeBin ?? dirname(process.execPath), binDir('pnpm'), '/usr/local/bin', '/usr/bin', '/bin'];
    this.env = {
      PATH: [...new Set(path)].join(':'),
      HOME: this.home,
      TMPDIR: tmpdir(),
      LANG: 'C.UTF-8',
      // The caches live in the user's folder: the first install is cold.
      npm_config_cache: join(this.home, '.npm'),
      npm_config_registry: options.registry,
      npm_config_store_dir: join(this.home, '.pnpm-store'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      XDG_DATA_HOME: join(this.home, '.local', 'share'),
    };
  }

  /** Runs a command to its end; never throws on a non-zero exit. */
  async run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
    const started = performance.now();
    try {
      const { stdout, stderr } = await promisify(execFile)(command, args, {
        cwd,
        env: { ...this.env, ...env },
        maxBuffer: 50_000_000,
      });
      return { code: 0, out: `${stdout}${stderr}`, ms: performance.now() - started };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string; message?: string };
      const out = `${e.stdout ?? ''}${e.stderr ?? ''}` || (e.message ?? '');
      return { code: typeof e.code === 'number' ? e.code : -1, out, ms: performance.now() - started };
    }
  }

  /**
   * Starts a long-running command in a process group of its own;
   * `output()` is what it printed so far, `kill()` ends the whole group (npx
   * and npm run their command through a shell: killing only the first
   * process would leave the rest running).
   */
  spawn(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    const child = spawn(command, args, {
      cwd,
      env: { ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    };
    return { child, output: () => output, kill };
  }

  /**
   * `<pm> start` in a service folder on a free port: waits for
   * `/health/ready`, GETs `path`, then SIGTERMs the service process (the
   * package manager runs it through a shell; a container runtime signals
   * the process itself) and returns what it saw.
   */
  async startService(
    dir: string,
    packageManager: 'npm' | 'pnpm',
    path: string,
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ readyMs: number; ready: number; status: number; body: unknown; exitCode: number | null }> {
    const port = await freePort();
    const started = performance.now();
    const { child, output, kill } = this.spawn(packageManager, ['start'], dir, {
      ...env,
      SMART_HTTP__PORT: String(port),
    });
    try {
      await waitFor200(`http://127.0.0.1:${port}/health/ready`, 60_000);
      const readyMs = performance.now() - started;
      const ready = (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      const body = await res.json();
      const node = await descendant(child.pid as number, 'src/server.ts');
      if (!node) throw new Error('no node process running src/server.ts under the start script');
      process.kill(node, 'SIGTERM');
      return { readyMs, ready, status: res.status, body, exitCode: await exited(child) };
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${output()}`);
    } finally {
      kill();
    }
  }
}

export { type ChildProcess, descendant, exited, freePort, waitFor200 };
