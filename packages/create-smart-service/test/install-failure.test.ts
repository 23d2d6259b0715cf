import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codes } from '../src/index.ts';
import { create, REPO, tempDir } from './helper.ts';

describe('a failed install', () => {
  it('leaves the files in place, exits 1 and says how to finish by hand', async () => {
    const cwd = tempDir();
    // A PATH with node but no pnpm: the install cannot run.
    const result = await create(['orders', '--no-git', '--local-packages', REPO], cwd, {
      PATH: dirname(process.execPath),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(codes.installFailed);
    expect(result.stderr).toContain(`Finish by hand: cd ${join(cwd, 'orders')} && pnpm install`);
    expect(existsSync(join(cwd, 'orders', 'src', 'app.ts'))).toBe(true);
    expect(existsSync(join(cwd, 'orders', 'package.json'))).toBe(true);
  });
});
