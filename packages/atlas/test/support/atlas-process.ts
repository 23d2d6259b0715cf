import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, MASTER_KEY } from '../helper.ts';
import { freePort } from './etcd-cluster.ts';

const bin = fileURLToPath(new URL('../../bin/smart-atlas.ts', import.meta.url));

/** An Atlas running as a process of its own (`smart-atlas serve`), so a test can kill it. */
export interface AtlasProcess {
  readonly base: string;
  readonly child: ChildProcess;
  /** SIGKILL: no deregistration, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `smart-atlas serve` in realm testing on a free loopback port with
 * `env` (the store's keys) and waits until it answers.
 *
 * @example
 * const atlas = await startAtlasProcess({ SMART_DB__URL: url });
 * onTestFinished(() => atlas.stop());
 */
export async function startAtlasProcess(env: Record<string, string>): Promise<AtlasProcess> {
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: {
      PATH: process.env.PATH,
      SMART_REALM: 'testing',
      SMART_HTTP__HOST: '127.0.0.1',
      SMART_HTTP__PORT: String(port),
      SMART_ATLAS__MASTER_KEY: MASTER_KEY,
      SMART_ATLAS__ADMIN_TOKEN: ADMIN_TOKEN,
      SMART_ATLAS__EXPIRY_INTERVAL_MS: '200',
      SMART_ATLAS__ALLOWED_HOSTS: JSON.stringify({ testing: ['127.0.0.0/8'] }),
      // The machine is shared: a slow event loop must not turn heartbeats into 503s here.
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
      SMART_LOG__LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => output.push(String(chunk)));
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  const base = `http://127.0.0.1:${port}`;
  const atlas: AtlasProcess = {
    base,
    child,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(1_000) })).ok) return atlas;
    } catch {}
    await sleep(100);
  }
  await atlas.kill();
  throw new Error(`Atlas did not start on ${base}:\n${output.join('')}`);
}
