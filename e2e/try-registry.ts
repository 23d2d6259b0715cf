// Try `npx create-smart-service` as a user will, before anything is on the
// public registry: start a local Verdaccio (storage in a temp folder),
// publish every package to it with `pnpm release`, then run
// `npx create-smart-service <args>` in the folder you ran this from, with
// that registry as npm's only one. The registry stops when the command ends.
//
//   bash scripts/try-registry.sh orders --db   (the service is written where you run it)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRegistry } from './lib/registry.ts';

const repo = resolve(import.meta.dirname, '..');
const cwd = process.env.INIT_CWD ?? process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'smart-try-registry-'));
const registry = await startRegistry(dir);
let status = 1;
try {
  console.error(`local registry at ${registry.url}: publishing every package (pnpm release)...`);
  execFileSync('pnpm', ['release', '--no-git-checks', '--registry', registry.url], {
    cwd: repo,
    env: { ...process.env, NPM_CONFIG_USERCONFIG: registry.npmrc },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // A user's environment: nothing of pnpm's script environment, npm's registry is the local one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
  console.error(`npx create-smart-service ${process.argv.slice(2).join(' ')}  (in ${cwd})`);
  const ran = spawnSync('npx', ['--yes', 'create-smart-service', ...process.argv.slice(2)], {
    cwd,
    env: { ...env, npm_config_registry: registry.url },
    stdio: 'inherit',
  });
  status = ran.status ?? 1;
} finally {
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
