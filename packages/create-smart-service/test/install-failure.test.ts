import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codes } from '../src/index.ts';
import { create, REPO, run, tempDir } from './helper.ts';

describe('a failed install', () => {
  it('leaves the files in place and committed, exits 1 and says how to finish by hand', async () => {
    const cwd = tempDir();
    // A PATH with node and git but no pnpm: the install cannot run, the commit can.
    const bin = join(tempDir('css-bin-'), 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(bin, 'git'));
    const result = await create(['orders', '--local-packages', REPO], cwd, {
      PATH: bin,
      npm_config_user_agent: 'pnpm/12.21.0 npm/? node/v24.11.0 linux x64',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(codes.installFailed);
    expect(result.stderr).toContain(
      `Finish by hand: cd ${join(cwd, 'orders')} && pnpm install (then commit pnpm-lock.yaml)`,
    );
    const dir = join(cwd, 'orders');
    expect(existsSync(join(dir, 'src', 'app.ts'))).toBe(true);
    expect(existsSync(join(dir, 'package.json'))).toBe(true);
    // The first commit holds every file written; nothing is left over.
    expect(result.stdout).toContain('initialised a git repository with a first commit');
    expect((await run('git', ['ls-files'], dir)).stdout.split('\n')).toEqual(
      expect.arrayContaining(['package.json', 'src/app.ts', '.github/workflows/ci.yml']),
    );
    expect((await run('git', ['status', '--porcelain'], dir)).stdout).toBe('');
  });
});
