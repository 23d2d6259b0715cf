import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const demo = fileURLToPath(new URL('../examples/demo.ts', import.meta.url));

// The README's example is this file: it must keep running as documented.
describe('the runnable example', () => {
  it('runs in realm local with nothing set', async () => {
    const { stdout } = await run(process.execPath, [demo], { env: { PATH: process.env.PATH } });
    expect(stdout).toContain('realm: local');
    expect(stdout).toContain('"password":"[redacted]"');
    expect(stdout).toMatch(/db\.poolMax +20 +from env {2}\(overrides defaults=10\)/);
    expect(stdout).toContain('live change accepted: port, features -> port 8081');
    expect(stdout).toContain('live change rejected (SMART_CONFIG_UPDATE_REJECTED), port stays 8081');
    expect(stdout).not.toContain('local-password');
  });

  it('stops with an error naming the missing secret in production, without printing a value', async () => {
    const env = { PATH: process.env.PATH, SMART_REALM: 'production' };
    const failure = await run(process.execPath, [demo], { env }).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('SMART_CONFIG_SECRET_MISSING');
    expect((failure as { stderr: string }).stderr).toContain('db.password');
  });
});
