// FibPro with client.via = "sidecar": fibfrontend knows neither userstore's
// nor pricing's address; every call goes to the local smart-sidecar (a real
// HAProxy kept in step with a real Atlas) with x-smart-service, and the
// answers are the same as when it calls them directly.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAtlasClient } from 'atlas-client';
import { createAtlas } from 'smart-atlas';
import { captureLogs } from 'smart-service/testing';
import { createSidecar } from 'smart-sidecar';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build as buildFrontend } from '../fibfrontend/src/app.ts';
import { addUser, fibpro, freshDatabase } from './helper.ts';

const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((bin) => existsSync(bin));

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('FibPro through the sidecar', () => {
  it('gives the same answers with client.via = "sidecar" as with direct addresses', async () => {
    if (!HAPROXY)
      throw new Error('HAProxy is not installed: apt-get install -y haproxy (scripts/test-servers.sh install)');
    const direct = await fibpro(await freshDatabase());

    // Atlas lists userstore and pricing (realm local: loopback addresses are fine there).
    const atlas = await createAtlas({
      realm: 'local',
      env: { SMART_DB__URL: await freshDatabase() },
      logDestination: captureLogs().stream,
    });
    onTestFinished(() => {
      const cut = setInterval(() => atlas.server.closeAllConnections(), 20);
      return atlas.close().finally(() => clearInterval(cut));
    });
    const atlasUrl = await atlas.listen({ port: 0, host: '127.0.0.1' });
    const registry = createAtlasClient({ url: atlasUrl });
    onTestFinished(() => registry.close());
    for (const [service, app] of [
      ['userstore', direct.users],
      ['pricing', direct.pricing],
    ] as const) {
      const { port } = app.server.address() as { port: number };
      await registry.register({
        service,
        id: `${service}-1`,
        realm: 'local',
        host: '127.0.0.1',
        port,
        ttlSeconds: 300,
      });
    }

    const dir = mkdtempSync(join(tmpdir(), 'fibpro-sidecar-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const sidecar = await createSidecar({
      atlas: createAtlasClient({ url: atlasUrl }),
      realm: 'local',
      listen: { host: '127.0.0.1', port },
      dir,
      haproxyBin: HAPROXY,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    onTestFinished(() => sidecar.close());

    // No SMART_SERVICE_*_URL and no Atlas: only the sidecar knows where the others are.
    const frontend = await buildFrontend({
      realm: 'testing',
      env: { SMART_CLIENT__VIA: 'sidecar', SMART_CLIENT__SIDECAR__PORT: String(port) },
      logDestination: captureLogs().stream,
    });
    onTestFinished(() => frontend.close());
    const viaSidecar = await frontend.listen({ port: 0, host: '127.0.0.1' });

    const alice = await addUser(direct.users, 100);
    const bob = await addUser(direct.users, 100);
    for (const n of ['10', '100', '0', '4.5']) {
      const one = await fetch(`${direct.url}/${n}`, { headers: { authorization: alice.basic } });
      const other = await fetch(`${viaSidecar}/${n}`, { headers: { authorization: bob.basic } });
      expect(other.status, `/${n}`).toBe(one.status);
      const [a, b] = [(await one.json()) as Record<string, unknown>, (await other.json()) as Record<string, unknown>];
      // Same answer; a problem names its own request.
      expect({ ...b, requestId: undefined }, `/${n}`).toEqual({ ...a, requestId: undefined });
    }
    const poor = await addUser(direct.users, 3);
    const refused = await fetch(`${viaSidecar}/10`, { headers: { authorization: poor.basic } });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ code: 'FIBPRO_INSUFFICIENT_CREDIT' });
    expect(sidecar.counts.reloads).toBe(0);
  });
});
