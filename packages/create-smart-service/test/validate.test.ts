import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codes, main, validateName } from '../src/index.ts';
import { create, tempDir } from './helper.ts';

const silent = () => {
  let text = '';
  return {
    stream: {
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream,
    text: () => text,
  };
};

describe('names and folders refused before anything is written', () => {
  it.each([
    ['../x', /walks out of the folder/],
    ['/abs', /is a path, not a name/],
    ['Bad Name', /contains spaces|upper-case/],
    ['UPPER', /upper-case/],
    ['a/b', /path separator/],
    ['-dash', /kebab-case/],
    ['x'.repeat(215), /longer than 214/],
  ])('%s: exits 1 with what is wrong and what is accepted, and writes nothing', async (name, why) => {
    const parent = tempDir();
    const cwd = join(parent, 'work');
    mkdirSync(cwd);
    const result = await create(['--no-install', '--no-git', '--', name], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(codes.invalidName);
    expect(result.stderr).toMatch(why);
    expect(result.stderr).toContain('kebab-case name such as "orders"');
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(parent)).toEqual(['work']);
  });

  it('refuses a name with a NUL character (argv cannot carry one: through main and validateName)', async () => {
    expect(() => validateName('bad\u0000name')).toThrow(/control characters/);
    const cwd = tempDir();
    const err = silent();
    const code = await main(['bad\u0000name', '--no-install', '--no-git'], {
      cwd,
      env: {},
      stdout: silent().stream,
      stderr: err.stream,
      interactive: false,
    });
    expect(code).toBe(1);
    expect(err.text()).toContain(codes.invalidName);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses an existing folder that is not empty, and leaves it as it was', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'orders'));
    writeFileSync(join(cwd, 'orders', 'notes.txt'), 'mine');
    const result = await create(['orders', '--no-install', '--no-git'], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(codes.targetNotEmpty);
    expect(result.stderr).toContain('exists and is not empty');
    expect(readdirSync(join(cwd, 'orders'))).toEqual(['notes.txt']);
  });

  it('refuses an unknown package manager and a missing name without a terminal', async () => {
    const cwd = tempDir();
    const pm = await create(['orders', '--package-manager', 'yarn'], cwd);
    expect(pm.code).toBe(1);
    expect(pm.stderr).toContain(codes.invalidOption);
    expect(pm.stderr).toMatch(/yarn/);
    const none = await create(['--no-install'], cwd);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('a service name is required');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('accepts kebab-case and scoped names, writing into the bare name', () => {
    expect(validateName('orders')).toBe('orders');
    expect(validateName('user-store2')).toBe('user-store2');
    expect(validateName('@team/orders')).toBe('orders');
  });
});
