import { describe, expect, it } from 'vitest';
import { Haproxy } from '../src/haproxy.ts';
import { atlasClient, reached, register, startAtlas, startSidecar, upstream, within } from './helper.ts';

describe('a sidecar that finds HAProxy running', () => {
  it('attaches through the master socket, adopts its servers without a reload, applies changes, and leaves it running when it stops', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const [a, b] = await Promise.all([upstream('a'), upstream('b')]);
    await register(atlas, 'orders', 'a', a.port);
    // The first sidecar starts HAProxy (as one that crashed would have left it).
    const first = await startSidecar(atlas);
    const second = await startSidecar(atlas, { dir: first.dir, listen: { host: '127.0.0.1', port: first.port } });
    expect(second.sidecar.workerPid).toBe(first.sidecar.workerPid);
    expect(second.lines).toContainEqual(expect.stringContaining('attached to a running HAProxy'));

    await register(atlas, 'orders', 'b', b.port);
    await within(5_000, async () => (await reached(first.port, 'orders', 10)).has('b'));
    expect(second.sidecar.counts.reloads).toBe(0);

    await second.sidecar.close();
    expect(await Haproxy.showProc(first.sidecar.files.masterSocket)).toBeDefined();
    expect(await reached(first.port, 'orders', 10)).toEqual(new Set(['a', 'b']));
  });
});
