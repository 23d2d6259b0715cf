import { setTimeout as sleep } from 'node:timers/promises';
import { atlasUrls, type ConfigSnapshot, createAtlasClient } from 'atlas-client';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ADMIN_TOKEN, call, freshDatabase, startAtlas } from './helper.ts';

let store: string;
beforeAll(async () => {
  store = await freshDatabase();
});

async function until<T>(check: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await sleep(10);
  }
}

describe('several Atlas processes on one store', () => {
  it('wake each other’s watchers: a write through one wakes a blocking query on the other (Postgres LISTEN/NOTIFY, etcd watch)', async () => {
    const admin = { token: ADMIN_TOKEN };
    const one = await startAtlas(store);
    const two = await startAtlas(store);
    const read = await call(two.base, 'GET', '/v1/config/billing/testing', admin);
    setTimeout(
      () => call(one.base, 'PUT', '/v1/config/billing/testing/replicated', { ...admin, body: { value: true } }),
      300,
    );
    const started = Date.now();
    const changed = await call(two.base, 'GET', `/v1/config/billing/testing?index=${read.index}&wait=20s`, admin);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(changed.body.values.replicated).toBe(true);
  });

  it('share published config schemas: a schema published through one checks writes through the other', async () => {
    const one = await startAtlas(store);
    const two = await startAtlas(store);
    const schema = { type: 'object', properties: { workers: { type: 'integer', minimum: 1 } } };
    const published = await call(one.base, 'PUT', '/v1/config-schema/shared/testing', {
      token: ADMIN_TOKEN,
      body: { schema },
    });
    expect(published.status).toBe(204);
    const refused = await call(two.base, 'PUT', '/v1/config/shared/testing/workers', {
      token: ADMIN_TOKEN,
      body: { value: 0 },
    });
    expect(refused).toMatchObject({ status: 422, body: { code: 'SMART_ATLAS_INVALID_CONFIG' } });
  });
});

describe('atlas-client over several Atlas processes', () => {
  it('takes the URLs as a list or comma-separated, each checked', () => {
    expect(atlasUrls('http://a:4100, http://b:4100/')).toEqual(['http://a:4100', 'http://b:4100']);
    expect(atlasUrls(['http://a:4100'])).toEqual(['http://a:4100']);
    expect(() => atlasUrls('http://a:4100,ftp://b')).toThrow(/http: or https:/);
    expect(() => atlasUrls(' , ')).toThrow(/empty/);
  });

  it('keeps its watch (from its index) and its registration when the Atlas it uses goes away', async () => {
    const one = await startAtlas(store);
    const two = await startAtlas(store);
    const client = createAtlasClient({ url: `${one.base},${two.base}`, token: ADMIN_TOKEN, waitMs: 2_000 });
    onTestFinished(() => client.close());
    await client.setConfig('failover', 'testing', 'n', 1);
    const seen: ConfigSnapshot[] = [];
    const watch = client.watchConfig('failover', 'testing', (c) => seen.push(c));
    onTestFinished(() => watch.stop());
    await until(() => (seen.length === 1 ? true : undefined));
    await client.register({ service: 'failover', id: 'f-1', realm: 'testing', host: '127.0.0.1', port: 7100 });

    // Both go away in turn; the one left answers, whichever the client was on.
    await one.atlas.close();
    const started = Date.now();
    await client.setConfig('failover', 'testing', 'n', 2);
    await until(() => (seen.at(-1)?.values.n === 2 ? true : undefined));
    expect(Date.now() - started).toBeLessThan(2_000);
    const beat = await client.register({
      service: 'failover',
      id: 'f-1',
      realm: 'testing',
      host: '127.0.0.1',
      port: 7100,
    });
    expect(beat.id).toBe('f-1');
    expect((await client.instances('failover', 'testing')).data.map((i) => i.id)).toEqual(['f-1']);
    // Every value once, in order: the watch went on from its index, not from scratch.
    expect(seen.map((c) => c.values.n)).toEqual([1, 2]);
  });
});
