// Redis and Postgres servers of one test's own, for tests that stop, hang or
// saturate them: the shared servers the rest of the suite uses are never
// touched. Each is stopped when the test that made it finishes, pass or
// fail, so a run leaves no process behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../../../scripts/test-servers.sh');

function start(kind: 'redis' | 'postgres'): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), `smart-private-${kind}-`));
  const output = execFileSync('bash', [SCRIPT, 'start', dir, kind], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { dir, env };
}

function pidOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid !== undefined && alive(pid)) process.kill(pid, name);
}

/** A Redis of this test's own: kill, hang and bring it back. Stopped when the test finishes. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it at once (SIGKILL): connections drop, the port refuses. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers. */
  hang(): void;
  resume(): void;
}

/** Starts a private Redis (call it inside a test: it is stopped when that test finishes). */
export function privateRedis(): PrivateRedis {
  const { dir, env } = start('redis');
  const url = env.REDIS_URL as string;
  const port = Number(new URL(url).port);
  const pidFile = join(dir, 'redis', 'redis.pid');
  let pid = pidOf(pidFile);
  onTestFinished(() => {
    signal(pid, 'SIGCONT');
    execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' });
    signal(pid, 'SIGKILL');
  });
  return {
    url,
    port,
    async kill() {
      signal(pid, 'SIGKILL');
      const deadline = Date.now() + 5_000;
      while (pid !== undefined && alive(pid) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async restart() {
      execFileSync('redis-server', [join(dir, 'redis', 'redis.conf')], { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try {
          if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG') break;
        } catch {}
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      pid = pidOf(pidFile);
    },
    hang: () => signal(pid, 'SIGSTOP'),
    resume: () => signal(pid, 'SIGCONT'),
  };
}

/** A Postgres of this test's own (its `smart_test` database). Stopped when the test finishes. */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/smart_test (trust auth). */
  readonly url: string;
}

/** Starts a private Postgres (call it inside a test: it is stopped when that test finishes). */
export function privatePostgres(): PrivatePostgres {
  const { dir, env } = start('postgres');
  onTestFinished(() => {
    execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' });
  });
  return { url: env.DATABASE_URL as string };
}
