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
  it('follows an address change of an instance through the runtime API', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const first = await upstream('moving');
    const second = await upstream('moved');
    await register(atlas, 'pricing', 'p1', first.port);
    const { sidecar, port } = await startSidecar(atlas);
    expect(await through(port, 'pricing')).toMatchObject({ status: 200, body: { instance: 'moving' } });
    await register(atlas, 'pricing', 'p1', second.port);
    await within(5_000, async () => (await through(port, 'pricing')).body.instance === 'moved');
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
  it('grows a full backend with a reload, keeping every instance', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const ups = await Promise.all(Array.from({ length: 5 }, (_, i) => upstream(`g${i}`)));
    await register(atlas, 'grow', 'g0', (ups[0] as { port: number }).port);
    const { sidecar, port } = await startSidecar(atlas, { slots: 2 });
    for (const u of ups.slice(1)) await register(atlas, 'grow', u.id, u.port);
    await within(5_000, async () => (await reached(port, 'grow', 30)).size === 5);
    await within(5_000, async () => sidecar.counts.reloads >= 1);
    const { config } = await haproxyState(sidecar);
    expect(config.match(/^ {2}server s\d+ 127\.0\.0\.1:\d+$/gm)).toHaveLength(5);
  });
});
