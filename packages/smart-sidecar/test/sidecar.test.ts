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

describe('the sidecar routes by x-smart-service to what Atlas lists', () => {
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

  it('follows an address change of an instance through the runtime API', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const first = await upstream('moving');
    const second = await upstream('moved');
    await register(atlas, 'pricing', 'p1', first.port);
    const { sidecar, port } = await startSidecar(atlas);
    expect(await through(port, 'pricing')).toMatchObject({ status: 200, body: { instance: 'moving' } });
    await register(atlas, 'pricing', 'p1', second.port);
    await within(1_000, async () => (await through(port, 'pricing')).body.instance === 'moved');
    expect(sidecar.counts.reloads).toBe(0);
  });

  it('answers a 503 problem for a service it does not know, and a 400 problem without the header', async () => {
    const atlasServer = await startAtlas();
    const { port } = await startSidecar(atlasClient(atlasServer.base));
    const unknown = await through(port, 'nobody', '/', { 'x-request-id': 'req-1' });
    expect(unknown.status).toBe(503);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.headers['retry-after']).toBe('1');
    expect(unknown.body).toMatchObject({
      status: 503,
      code: 'SMART_SIDECAR_UNKNOWN_SERVICE',
      requestId: 'req-1',
      service: 'smart-sidecar',
    });
    expect(unknown.body.detail).toContain('nobody');
    // A header cannot break out of the JSON body.
    const quoted = await through(port, 'a"b\\c', '/');
    expect(quoted.body.detail).toContain('a"b\\c');

    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'SMART_SIDECAR_NO_SERVICE_HEADER' });
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
      const answers = await Promise.all(names.map((name) => through(port, name)));
      return answers.every((a) => a.status === 200);
    });
    await within(1_000, async () => !sidecar.reloadPending);
    // One second of new services: the first reload after the debounce, then at most one a second.
    expect(sidecar.counts.reloads).toBeGreaterThanOrEqual(1);
    expect(sidecar.counts.reloads).toBeLessThanOrEqual(4);
  });

  it('grows a full backend with a reload, keeping every instance', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const ups = await Promise.all(Array.from({ length: 5 }, (_, i) => upstream(`g${i}`)));
    await register(atlas, 'grow', 'g0', (ups[0] as { port: number }).port);
    const { sidecar, port } = await startSidecar(atlas, { slots: 2 });
    for (const u of ups.slice(1)) await register(atlas, 'grow', u.id, u.port);
    await within(5_000, async () => (await reached(port, 'grow', 30)).size === 5);
    await within(1_000, async () => sidecar.counts.reloads >= 1);
    const { config } = await haproxyState(sidecar);
    expect(config.match(/^ {2}server s\d+ 127\.0\.0\.1:\d+$/gm)).toHaveLength(5);
  });
});
