import { spawn } from 'node:child_process';
import { CreateError, codes } from './errors.ts';
import type { PackageManager } from './package-manager.ts';

/** The lockfile a package manager writes. */
export const lockfileOf = (packageManager: PackageManager) =>
  packageManager === 'pnpm' ? 'pnpm-lock.yaml' : 'package-lock.json';

/** Where progress goes: a terminal gets a spinner, anything else a line every 10 s. */
export interface Progress {
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
}

interface Ran {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      // Only the tail is shown on failure: keep it bounded.
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ code: -1, output: `${output}${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const git = (args: readonly string[], cwd: string) => run('git', args, cwd);

/**
 * `git init` and a first commit of everything generated, the lockfile
 * included when the install ran first (the CLI's order). Uses the user's git
 * identity; when there is none, commits as "create-smart-service" for this
 * one commit, without touching any git config.
 *
 * @example
 * await gitInit('/home/ann/orders');
 */
export async function gitInit(dir: string): Promise<void> {
  const init = await git(['init', '--quiet', '--initial-branch=main'], dir);
  if (init.code !== 0) throw new CreateError(codes.gitFailed, `git init failed: ${init.output.trim()}`);
  const add = await git(['add', '--all'], dir);
  if (add.code !== 0) throw new CreateError(codes.gitFailed, `git add failed: ${add.output.trim()}`);
  const identity = (await git(['config', 'user.email'], dir)).output.trim()
    ? []
    : ['-c', 'user.name=create-smart-service', '-c', 'user.email=create-smart-service@localhost'];
  const commit = await git([...identity, 'commit', '--quiet', '-m', 'A new smart service (create-smart-service)'], dir);
  if (commit.code !== 0) throw new CreateError(codes.gitFailed, `git commit failed: ${commit.output.trim()}`);
}

/**
 * The version of a package manager on the PATH (`pnpm --version`), or
 * undefined when it does not run.
 *
 * @example
 * await versionOf('pnpm'); // '12.21.0'
 */
export async function versionOf(packageManager: PackageManager): Promise<string | undefined> {
  const ran = await run(packageManager, ['--version'], process.cwd());
  const version = ran.output.trim();
  return ran.code === 0 && /^\d+\.\d+\.\d+\S*$/.test(version) ? version : undefined;
}

/**
 * Installs the dependencies with `pnpm install` or `npm install`, showing
 * progress while it runs. A failure says how to finish by hand; the files
 * stay where they are.
 *
 * @example
 * await install('/home/ann/orders', 'pnpm', { stream: process.stderr });
 */
export async function install(dir: string, packageManager: PackageManager, progress: Progress): Promise<void> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const tty = progress.stream.isTTY === true;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  progress.stream.write(`installing dependencies with ${packageManager}${tty ? '' : '...\n'}`);
  const timer = setInterval(
    () => {
      if (tty)
        progress.stream.write(
          `\r${frames[frame++ % frames.length]} installing dependencies with ${packageManager} (${seconds()} s)`,
        );
      else progress.stream.write(`  still installing (${seconds()} s)\n`);
    },
    tty ? 100 : 10_000,
  );
  const args =
    packageManager === 'pnpm' ? ['install', '--reporter=append-only'] : ['install', '--no-fund', '--no-audit'];
  const result = await run(packageManager, args, dir);
  clearInterval(timer);
  if (tty) progress.stream.write('\r\u001b[2K');
  if (result.code !== 0) {
    const tail = result.output.trim().split('\n').slice(-15).join('\n');
    throw new CreateError(
      codes.installFailed,
      `${packageManager} install failed after ${seconds()} s; the service's files are in place. ` +
        `Finish by hand: cd ${dir} && ${packageManager} install (then commit ${lockfileOf(packageManager)})\n${tail}`,
    );
  }
  progress.stream.write(`installed dependencies with ${packageManager} in ${seconds()} s\n`);
}
