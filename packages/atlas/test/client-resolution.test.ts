import { createServer } from 'node:http';
import { createAtlasClient } from 'atlas-client';
import { atlasResolver, createClient } from 'smart-client';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ADMIN_TOKEN, freshDatabase, startAtlas } from './helper.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function instance(name: string) {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe('smart-client resolution through Atlas', () => {
  it('picks up a newly registered instance and drops a deregistered one, without a restart', async () => {
    const { base } = await startAtlas(url);
    const admin = createAtlasClient({ url: base, token: ADMIN_TOKEN });
    onTestFinished(() => admin.close());
    const client = createClient({
      realm: 'testing',
      resolver: atlasResolver(createAtlasClient({ url: base, token: ADMIN_TOKEN })),
    });
    onTestFinished(() => client.close());
    const register = async (id: string, port: number) =>
      admin.register({ service: 'pricing', id, realm: 'testing', host: '127.0.0.1', port, ttlSeconds: 30 });

    await register('one', await instance('one'));
    const names = async (n: number) =>
      new Set(
        await Promise.all(
          Array.from({ length: n }, async () => (await client.get<{ name: string }>('service://pricing/price')).name),
        ),
      );
    expect(await names(10)).toEqual(new Set(['one']));

    await register('two', await instance('two'));
    const deadline = Date.now() + 3_000;
    while (!(await names(20)).has('two') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await names(40)).toEqual(new Set(['one', 'two']));

    await admin.deregister('pricing', 'one');
    const gone = Date.now() + 3_000;
    while ((await names(20)).has('one') && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(await names(40)).toEqual(new Set(['two']));
  });
});
