// Lets a developer's plain `pnpm test` just work: when DATABASE_URL or
// REDIS_URL is unset, start throwaway servers for the run and stop them after.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(import.meta.dirname, 'test-servers.sh');

export default function setup(): (() => void) | undefined {
  const wanted = [!process.env.DATABASE_URL && 'postgres', !process.env.REDIS_URL && 'redis'].filter(
    (name): name is string => Boolean(name),
  );
  if (wanted.length === 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'smart-test-'));
  const output = execFileSync('bash', [script, 'start', dir, ...wanted], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return () => execFileSync('bash', [script, 'stop', dir], { stdio: 'inherit' });
}
