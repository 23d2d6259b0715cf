import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ADMIN_TOKEN, freePort, startAtlas } from '../lib/atlas.ts';
import { report } from '../lib/figures.ts';
import { startService, until } from '../lib/service-process.ts';

async function greeting(base: string) {
  const res = await request(`${base}/greeting`);
  return { status: res.statusCode, body: (await res.body.json()) as { greeting: string; rps: number } };
}

describe('a bad value in Atlas for one key', () => {
  it('running instances keep serving and still apply other keys; a new instance starts', async () => {
    const port = await freePort();
    const atlas = await startAtlas(port);
    const dir = await mkdtemp(join(tmpdir(), 'smart-chaos-bad-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const env = {
      CHAOS_NAME: 'chaos-bad',
      SMART_ATLAS_URL: `http://127.0.0.1:${port}`,
      SMART_ATLAS_TOKEN: ADMIN_TOKEN,
      SMART_ATLAS_TTL_SECONDS: '3',
    };
    // Written before any instance published the service's schema, Atlas cannot
    // check it: the bad value reaches the services (as one from an older Atlas would).
    const badWrite = await atlas.setConfig('chaos-bad', 'testing', 'limits.rps', 'fifty');
    expect(await atlas.setConfig('chaos-bad', 'testing', 'greeting', 'first')).toBeLessThan(300);

    const running = await startService({ ...env, SMART_ATLAS_CACHE_DIR: join(dir, 'a') });
    const atStart = await greeting(running.base);
    expect(await atlas.setConfig('chaos-bad', 'testing', 'greeting', 'still live')).toBeLessThan(300);
    await until(async () => (await greeting(running.base)).body.greeting === 'still live', 10_000, 'other key applied');
    const after = await greeting(running.base);

    const fresh = await startService({ ...env, SMART_ATLAS_CACHE_DIR: join(dir, 'b') });
    const freshGreeting = await greeting(fresh.base);
    // Once the schema is published, Atlas refuses such a write itself.
    await until(
      async () => (await atlas.setConfig('chaos-bad', 'testing', 'limits.rps', 'sixty')) === 422,
      10_000,
      'Atlas refusing the bad write with the schema',
    );
    report('bad-config-value', {
      badWriteWithoutSchema: badWrite,
      runningStartedWith: `${atStart.status} rps=${atStart.body.rps}`,
      otherKeyApplied: after.body.greeting === 'still live',
      newInstanceStarted: fresh.child.exitCode === null,
      newInstance: `rps=${freshGreeting.body.rps} greeting=${freshGreeting.body.greeting}`,
      badWriteWithSchema: 422,
    });
    // Each instance starts on the bad key's lower layers (the default, 10) and applies the others.
    expect(atStart).toEqual({ status: 200, body: { greeting: 'first', rps: 10 } });
    expect(after).toEqual({ status: 200, body: { greeting: 'still live', rps: 10 } });
    expect(fresh.child.exitCode).toBeNull();
    expect(freshGreeting).toEqual({ status: 200, body: { greeting: 'still live', rps: 10 } });
    expect(running.child.exitCode).toBeNull();
  });
});
