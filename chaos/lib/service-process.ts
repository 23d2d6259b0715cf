// A service under test, run as a process of its own (as in production): its
// JSON log lines are collected, its exit is awaited, and it is killed when
// the test finishes.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../fixtures/service.ts', import.meta.url));

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly base: string;
  /** Every JSON line it wrote to stdout. */
  readonly lines: Record<string, unknown>[];
  /** Everything it wrote, as text (for the secret canary). */
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Waits until `check` holds (polling), or throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} not met within ${timeoutMs} ms`);
}

/** Starts fixtures/service.ts with this environment (realm testing, loopback, port 0 unless given). */
export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH,
      SMART_REALM: 'testing',
      SMART_HTTP__HOST: '127.0.0.1',
      SMART_HTTP__PORT: '0',
      SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
      // The scenarios load the service in a closed loop, each client sending again as
      // soon as it is answered: saturation by design, which load shedding rightly answers
      // with a few 503s (0.1-0.2% in the Redis, Postgres and Atlas scenarios). They are
      // about dependencies, bad input and signals, so shedding is off here; the overload
      // scenario turns it on and is about nothing else.
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let text = '';
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk;
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      if (!part) continue;
      try {
        lines.push(JSON.parse(part));
      } catch {
        lines.push({ raw: part });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  await until(() => lines.some((line) => line.listening) || child.exitCode !== null, 20_000, 'service listening');
  const listening = lines.find((line) => line.listening);
  if (!listening) throw new Error(`the service exited before listening:\n${text}`);
  return { child, base: String(listening.listening), lines, output: () => text, exited };
}
