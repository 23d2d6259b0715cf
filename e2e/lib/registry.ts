// A real npm registry for the end-to-end tests: Verdaccio on a loopback
// port, its storage in a temp folder. Our package names are served from
// that storage only (never proxied, so a same-named package on the public
// registry can't stand in for ours); everything else is proxied from the
// registry npm is configured with.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The names of the packages this repository publishes. */
export const OUR_PACKAGES = [
  'smart-protocol',
  'smart-config',
  'atlas-client',
  'smart-client',
  'smart-service',
  'smart-atlas',
  'smart-dev',
  'smart-sidecar',
  'create-smart-service',
] as const;

export interface Registry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** An npmrc holding the registry and a token that may publish. */
  readonly npmrc: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function upstream(): string {
  try {
    return (
      execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim() || 'https://registry.npmjs.org/'
    );
  } catch {
    return 'https://registry.npmjs.org/';
  }
}

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`verdaccio did not answer within 60 s:\n${log()}`);
}

/**
 * Starts Verdaccio in `dir` (config, storage, htpasswd) and creates a user
 * whose token may publish our packages.
 *
 * @example
 * const registry = await startRegistry(tmp);
 * execFileSync('pnpm', ['release', '--registry', registry.url], { env: { ...env, NPM_CONFIG_USERCONFIG: registry.npmrc } });
 */
export async function startRegistry(dir: string): Promise<Registry> {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const own = OUR_PACKAGES.map((name) => `  '${name}':\n    access: $all\n    publish: $authenticated\n`).join('');
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      `  htpasswd:\n    file: ${join(dir, 'htpasswd')}\n    max_users: 10`,
      'uplinks:',
      `  upstream:\n    url: ${upstream()}\n    timeout: 60s\n    maxage: 30m`,
      'packages:',
      own.trimEnd(),
      "  '**':\n    access: $all\n    publish: $authenticated\n    proxy: upstream",
      `listen: 127.0.0.1:${port}`,
      'log: { type: stdout, format: json, level: warn }',
      'web: { enable: false }',
      'max_body_size: 50mb',
      '',
    ].join('\n'),
  );
  let output = '';
  const bin = join(import.meta.dirname, '..', 'node_modules', '.bin', 'verdaccio');
  const child = spawn(bin, ['--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-10_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitFor(url, child, () => output);

  const res = await fetch(`${url}-/user/org.couchdb.user:e2e`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'e2e', password: 'e2e-password', type: 'user', roles: [] }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!res.ok || !token) throw new Error(`verdaccio refused the test user: ${res.status}`);
  const npmrc = join(dir, 'npmrc');
  writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);

  return {
    url,
    npmrc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
