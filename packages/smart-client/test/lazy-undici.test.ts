import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/undici-loads.ts', import.meta.url));

// A service makes its client at start and may never call anyone: undici (~110
// files) is the largest part of its start that it need not load (issue 16).
describe('undici is loaded at the first call', () => {
  it('not when a client is made or closed unused; the first calls load it once and later calls use it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { timeout: 20_000 });
    const steps = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(steps.afterIdleClient).toBe(0);
    expect(steps.afterCreate).toBe(0);
    expect(steps.firstCalls).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    expect(steps.afterFirstCalls).toBeGreaterThan(50);
    expect(steps.laterCall).toEqual({ n: 1 });
    // A closed client refuses calls, as it did when its agent was made with it, even one closed unused.
    expect(steps.afterClose).toBe('SMART_CLIENT_UNAVAILABLE: api is unavailable: The client is destroyed');
    expect(steps.idleAfterClose).toBe('SMART_CLIENT_UNAVAILABLE: api is unavailable: The client is destroyed');
  });
});
