import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AtlasClientError, type ConfigSnapshot, createAtlasClient, type Instance } from 'atlas-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createAtlas } from '../src/index.ts';
import { ADMIN_TOKEN, atlasRealm, createToken, freshDatabase, startAtlas, storeEnv } from './helper.ts';

let url: string;
let cacheDir: string;
beforeAll(async () => {
  url = await freshDatabase();
  cacheDir = await mkdtemp(join(tmpdir(), 'atlas-client-'));
});
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

function client(base: string, token = ADMIN_TOKEN, extra: object = {}) {
  const c = createAtlasClient({ url: base, token, cacheDir, waitMs: 2_000, ...extra });
  onTestFinished(() => c.close());
  return c;
}

async function until<T>(read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('atlas-client', () => {
  it('registers with a service token, lists, heartbeats and deregisters', async () => {
    const { base } = await startAtlas(url);
    const token = await createToken(base, {
      name: 'payments',
      scope: 'service',
      service: 'payments',
      realm: 'testing',
    });
    const atlas = client(base, token);
    const registration = {
      service: 'payments',
      id: 'p-1',
      realm: 'testing',
      host: '127.0.0.1',
      port: 5001,
      ttlSeconds: 10,
    };
    const first = await atlas.register(registration);
    expect(first).toMatchObject({ id: 'p-1', url: 'http://127.0.0.1:5001' });
    expect((await atlas.instances('payments', 'testing')).data.map((i) => i.id)).toEqual(['p-1']);
    expect(await atlas.services('testing')).toContainEqual({ service: 'payments', instances: 1 });
    const beat = await atlas.register(registration);
    expect(beat.expiresAt).toBeGreaterThanOrEqual(first.expiresAt);
    await atlas.deregister('payments', 'p-1');
    expect((await atlas.instances('payments', 'testing')).data).toEqual([]);
  });

  it('turns Atlas problems into coded errors with the remote code', async () => {
    const { base } = await startAtlas(url);
    const token = await createToken(base, { name: 'ro', scope: 'catalog', realm: 'testing' });
    const err = await client(base, token)
      .setConfig('payments', 'testing', 'x', 1)
      .catch((e: AtlasClientError) => e);
    expect(err).toMatchObject({ code: 'SMART_ATLAS_CLIENT_HTTP', status: 403, remoteCode: 'SMART_ATLAS_FORBIDDEN' });
    expect(() => createAtlasClient({ url: `${base}?token=abc` })).toThrow(/credentials or a query/);
    expect(() => createAtlasClient({ url: 'ftp://x' })).toThrow(
      expect.objectContaining({ code: 'SMART_ATLAS_CLIENT_INVALID_OPTION' }),
    );
  });

  it('watches config: the current value at once, then each change within a second', async () => {
    const { base } = await startAtlas(url);
    const atlas = client(base);
    await atlas.setConfig('shop', 'testing', 'feature.checkout', false);
    const seen: ConfigSnapshot[] = [];
    const watch = atlas.watchConfig('shop', 'testing', (config) => seen.push(config));
    await until(() => (seen.length >= 1 ? true : undefined));
    expect(seen[0]?.values).toEqual({ 'feature.checkout': false });
    const started = Date.now();
    await atlas.setConfig('shop', 'testing', 'feature.checkout', true);
    await until(() => (seen.length >= 2 ? true : undefined));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen[1]?.values).toEqual({ 'feature.checkout': true });
    await watch.stop();
  });

  it('watches instances, and sees one expire', async () => {
    const { base } = await startAtlas(url);
    const atlas = client(base);
    const lists: Instance[][] = [];
    atlas.watchInstances('cart', 'testing', (instances) => lists.push(instances));
    await until(() => (lists.length >= 1 ? true : undefined));
    await atlas.register({
      service: 'cart',
      id: 'c-1',
      realm: 'testing',
      host: '127.0.0.1',
      port: 6001,
      ttlSeconds: 1,
    });
    await until(() => (lists.at(-1)?.length === 1 ? true : undefined));
    await until(() => (lists.length >= 3 && lists.at(-1)?.length === 0 ? true : undefined), 4_000);
  });

  it('backs off while Atlas is down, recovers when it is back, and resets when the index goes backwards', async () => {
    const first = await startAtlas(url);
    const port = Number(new URL(first.base).port);
    const atlas = client(first.base, ADMIN_TOKEN, {
      timing: { minIntervalMs: 50, backoffBaseMs: 50, backoffMaxMs: 400 },
    });
    await atlas.setConfig('search', 'testing', 'shards', 3);
    const seen: ConfigSnapshot[] = [];
    const errors: AtlasClientError[] = [];
    atlas.watchConfig('search', 'testing', (c) => seen.push(c), { onError: (e) => errors.push(e) });
    await until(() => (seen.length >= 1 ? true : undefined));

    await first.atlas.close();
    await until(() => (errors.length >= 3 ? true : undefined), 5_000);
    expect(errors[0]?.code).toBe('SMART_ATLAS_CLIENT_UNAVAILABLE');
    const before = errors.length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(errors.length - before).toBeLessThanOrEqual(12); // paced: never a tight loop

    // A new Atlas on the same port over an empty database: its index starts lower.
    // Without the reset, the watch would keep asking for an index this Atlas never reaches.
    const restarted = await startAtlasOnPort(await freshDatabase(), port);
    await client(restarted, ADMIN_TOKEN).setConfig('search', 'testing', 'shards', 5);
    await until(() => (seen.at(-1)?.values.shards === 5 ? true : undefined), 5_000);
  });

  it('keeps a last-known-good copy on disk for a restart while Atlas is down, without secrets', async () => {
    const { atlas: server, base } = await startAtlas(url);
    await client(base).setConfig('ledger', 'testing', 'currency', 'EUR');
    await client(base).setConfig('ledger', 'testing', 'apiKey', 'ledger-secret-value-1', { secret: true });
    const read = await client(base).getConfig('ledger', 'testing');
    expect(read.data.values.apiKey).toBe('ledger-secret-value-1'); // an admin token sees it
    await client(base).rememberConfig(read.data);
    const files = await readdir(cacheDir);
    for (const file of files)
      expect(await readFile(join(cacheDir, file), 'utf8')).not.toContain('ledger-secret-value-1');
    await client(base).register({ service: 'ledger', id: 'l-1', realm: 'testing', host: '127.0.0.1', port: 7001 });
    await client(base).instances('ledger', 'testing');
    await server.close();
    const later = client(base);
    await expect(later.getConfig('ledger', 'testing')).rejects.toMatchObject({
      code: 'SMART_ATLAS_CLIENT_UNAVAILABLE',
    });
    expect((await later.lastKnownConfig('ledger', 'testing'))?.values).toEqual({ currency: 'EUR' });
    expect(await later.lastKnownConfig('nothing', 'testing')).toBeUndefined();
    expect((await later.lastKnownInstances('ledger', 'testing'))?.map((i) => i.url)).toEqual(['http://127.0.0.1:7001']);
  });
});

/** Starts an Atlas listening on a given port (for "Atlas came back" tests). */
async function startAtlasOnPort(db: string, port: number): Promise<string> {
  const atlas = await createAtlas({
    realm: atlasRealm,
    env: {
      ...storeEnv(db),
      SMART_ATLAS__MASTER_KEY: 'a'.repeat(64),
      SMART_ATLAS__ADMIN_TOKEN: ADMIN_TOKEN,
      SMART_LOG__LEVEL: 'warn',
    },
    logDestination: { write: () => true } as never,
  });
  onTestFinished(() => atlas.close());
  return atlas.listen({ port, host: '127.0.0.1' });
}
