import { describe, expect, it } from 'vitest';
import { atlasClient, reached, register, startAtlas, startSidecar, upstream, within } from './helper.ts';

describe('when Atlas is unreachable', () => {
  it('keeps routing with the last configuration, and catches up when Atlas is back', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const [a, b, c] = await Promise.all([upstream('a'), upstream('b'), upstream('c')]);
    await register(atlas, 'orders', 'a', (a as { port: number }).port);
    await register(atlas, 'orders', 'b', (b as { port: number }).port);
    const { sidecar, port, lines } = await startSidecar(atlas);
    expect(await reached(port, 'orders', 10)).toEqual(new Set(['a', 'b']));

    await atlasServer.stop();
    await within(5_000, async () => sidecar.atlasLagSeconds() > 0);
    expect(lines).toContainEqual(expect.stringContaining('Atlas is unreachable: HAProxy keeps routing'));
    expect(await reached(port, 'orders', 20)).toEqual(new Set(['a', 'b']));

    await atlasServer.start();
    // While it was down, b went away and c arrived (written before any sidecar read).
    const admin = atlasClient(atlasServer.base);
    await admin.deregister('orders', 'b');
    await register(admin, 'orders', 'c', (c as { port: number }).port);
    await within(15_000, async () => {
      const seen = await reached(port, 'orders', 10);
      return seen.has('c') && !seen.has('b');
    });
    expect(sidecar.atlasLagSeconds()).toBe(0);
    expect(lines).toContainEqual(expect.stringContaining('Atlas answers again'));
  });

  it('starts HAProxy with the last good file when Atlas is down at start', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const a = await upstream('a');
    await register(atlas, 'orders', 'a', a.port);
    const first = await startSidecar(atlas);
    expect(await reached(first.port, 'orders', 5)).toEqual(new Set(['a']));
    await first.sidecar.close();
    await atlasServer.stop();

    const again = await startSidecar(atlas, { dir: first.dir, listen: { host: '127.0.0.1', port: first.port } });
    expect(again.lines).toContainEqual(expect.stringContaining('HAProxy starts with the last configuration'));
    expect(await reached(again.port, 'orders', 5)).toEqual(new Set(['a']));
  });
});
