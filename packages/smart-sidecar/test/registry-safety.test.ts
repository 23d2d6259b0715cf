import { describe, expect, it } from 'vitest';
import {
  atlasClient,
  haproxyState,
  poison,
  reached,
  register,
  startAtlas,
  startSidecar,
  through,
  upstream,
  within,
} from './helper.ts';

const UNSAFE = ['169.254.169.254', '::ffff:169.254.169.254', 'fe80::1', '0.0.0.0', '224.0.0.1'];

describe('registry data the sidecar refuses', () => {
  it('never writes a link-local host or a name with CR/LF into the HAProxy config or the runtime API, and logs each by name', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const good = await upstream('good');
    await register(atlas, 'userstore', 'good', good.port);
    // Around Atlas's own checks: as a restored backup or a compromised store could hold them.
    for (const [i, host] of UNSAFE.entries())
      await poison(atlasServer.dbUrl, { service: 'userstore', id: `bad-${i}`, host, port: 80 });
    await poison(atlasServer.dbUrl, { service: 'evil\r\nservice', id: 'e1', host: '127.0.0.1', port: good.port });
    await poison(atlasServer.dbUrl, { service: 'userstore', id: 'crlf\r\nid', host: '127.0.0.1', port: good.port });

    const { sidecar, port, lines } = await startSidecar(atlas);
    expect(await reached(port, 'userstore', 10)).toEqual(new Set(['good']));

    // Live too: a new write wakes the watch, which reads the poisoned rows again.
    await poison(atlasServer.dbUrl, { service: 'userstore', id: 'bad-live', host: '169.254.169.254', port: 80 });
    const late = await upstream('late');
    await register(atlas, 'userstore', 'late', late.port);
    await within(5_000, async () => (await reached(port, 'userstore', 10)).has('late'));

    const { config, servers } = await haproxyState(sidecar);
    expect(config).not.toMatch(/169\.254|fe80|224\.0\.0\.1|0\.0\.0\.0|evil|crlf/);
    expect(config).not.toContain('\r');
    expect(servers.map((s) => s.address)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/169\.254|fe80|^0\.0\.0\.0$|224\./)]),
    );
    expect(
      servers
        .filter((s) => s.backend === 'svc_userstore' && s.admin % 2 === 0)
        .map((s) => s.port)
        .sort(),
    ).toEqual([good.port, late.port].sort());
    expect(servers.map((s) => s.backend)).not.toContainEqual(expect.stringMatching(/evil/));

    const refusals = lines.filter((line) => line.startsWith('warn registry'));
    expect(refusals).toContainEqual(expect.stringContaining('userstore/bad-0: address 169.254.169.254'));
    expect(refusals).toContainEqual(expect.stringContaining('(link-local)'));
    expect(refusals).toContainEqual(expect.stringContaining('userstore/bad-live'));
    expect(refusals).toContainEqual(expect.stringContaining('evil\\r\\nservice'));
    expect(refusals).toContainEqual(expect.stringContaining('userstore/crlf\\r\\nid'));
    // Each log line is one line: the CR/LF is escaped, never written.
    for (const line of refusals) expect(line).not.toMatch(/[\r\n]/);

    // And the refused service's name, sent as a header, is simply unknown.
    expect((await through(port, 'evil')).status).toBe(503);
  });
});
