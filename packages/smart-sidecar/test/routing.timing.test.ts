// The time bounds (within 1 s, within 2 s, a few reloads for a burst): run alone, in the timing group.
import { describe, expect, it } from 'vitest';
import {
  atlasClient,
  haproxyState,
  reached,
  register,
  startAtlas,
  startSidecar,
  through,
  upstream,
  within,
} from './helper.ts';

describe('the sidecar follows Atlas in time', () => {
  it('reaches all three instances, serves a fourth within 1 s, stops sending to a removed or drained one within 1 s, all without a reload', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const instances = await Promise.all(['u1', 'u2', 'u3', 'u4'].map((id) => upstream(id)));
    const [u1, u2, u3, u4] = instances as [
      (typeof instances)[0],
      (typeof instances)[0],
      (typeof instances)[0],
      (typeof instances)[0],
    ];
    for (const u of [u1, u2, u3]) await register(atlas, 'userstore', u.id, u.port);
    const { sidecar, port } = await startSidecar(atlas);
    const pid = sidecar.workerPid;

    expect(await reached(port, 'userstore')).toEqual(new Set(['u1', 'u2', 'u3']));
    const answer = await through(port, 'userstore', '/users/42');
    expect(answer.body).toMatchObject({ url: '/users/42', service: 'userstore' });

    await register(atlas, 'userstore', u4.id, u4.port);
    const added = await within(1_000, async () => (await reached(port, 'userstore', 12)).has('u4'));
    expect(added).toBeLessThan(1_000);

    await atlas.deregister('userstore', 'u1');
    await within(1_000, async () => !(await reached(port, 'userstore', 12)).has('u1'));
    const hits = u1.hits;
    await reached(port, 'userstore', 40);
    expect(u1.hits).toBe(hits);

    // Drained (disabled by an admin): Atlas stops listing it.
    await atlas.setDisabled('userstore', 'u2', true);
    await within(1_000, async () => !(await reached(port, 'userstore', 12)).has('u2'));
    expect(await reached(port, 'userstore', 40)).toEqual(new Set(['u3', 'u4']));

    expect(sidecar.workerPid).toBe(pid);
    expect(sidecar.counts.reloads).toBe(0);
    expect(sidecar.counts.runtimeChanges).toBeGreaterThanOrEqual(3);
  });
  it('makes a new service reachable within 2 s with one validated reload', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const { sidecar, port } = await startSidecar(atlas);
    const pid = sidecar.workerPid;
    const billing = await upstream('b1');
    await register(atlas, 'billing', 'b1', billing.port);
    const took = await within(2_000, async () => (await through(port, 'billing')).status === 200);
    expect(took).toBeLessThan(2_000);
    // The new worker answers a moment before the sidecar has seen it take over.
    await within(1_000, async () => sidecar.counts.reloads === 1);
    expect(sidecar.counts.reloads).toBe(1);
    expect(sidecar.workerPid).not.toBe(pid);
    const { config } = await haproxyState(sidecar);
    expect(config).toContain('use_backend svc_billing if to_billing');
  });
  it('turns 20 new services in one second into a few reloads, not 20', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const { sidecar, port } = await startSidecar(atlas);
    const one = await upstream('shared');
    const names = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    for (const name of names) {
      await register(atlas, name, `${name}-1`, one.port);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await within(5_000, async () => {
      // A reload closes idle keep-alive connections: a plain client may see one closed (smart-client retries it).
      const answers = await Promise.all(names.map((name) => through(port, name).catch(() => undefined)));
      return answers.every((a) => a?.status === 200);
    });
    await within(1_000, async () => !sidecar.reloadPending);
    // One second of new services: the first reload after the debounce, then at most one a second.
    expect(sidecar.counts.reloads).toBeGreaterThanOrEqual(1);
    expect(sidecar.counts.reloads).toBeLessThanOrEqual(4);
  });
});
