import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createClient, RemoteError, staticResolver } from 'smart-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { generateClientModule } from '../src/api/client-module.ts';
import { serviceClient } from '../src/index.ts';
import { type ShopRoutes, shop } from './fixtures/shop.ts';
import { build, listen } from './helper.ts';
import { shopClient } from './types/shop-client.generated.ts';

const GENERATED = new URL('./types/shop-client.generated.ts', import.meta.url);

async function shopService() {
  const app = await build({ name: 'shop', version: '2.0.0', realm: 'testing' });
  shop(app);
  const url = await listen(app);
  const client = createClient({ realm: 'testing', resolver: staticResolver({ shop: [url] }) });
  onTestFinished(() => client.close());
  return { app, url, client };
}

describe('typed service clients', () => {
  it('call a real service through the smart client with the route types of its contract', async () => {
    const { client } = await shopService();
    const shopApi = serviceClient<ShopRoutes>(client, 'shop');
    expect(await shopApi.get('/items/:id', { params: { id: 1 } })).toEqual({
      id: 1,
      name: 'kite',
      price: 12.5,
      tags: ['toy'],
    });
    const created = await shopApi.post('/items', { body: { name: 'ball', price: 3, kind: 'toy' } });
    expect(created).toEqual({ id: 2, name: 'ball', price: 3, tags: [] });
    expect(await shopApi.get('/items', { query: { tag: 'toy', limit: 1 } })).toEqual({
      items: [expect.objectContaining({ id: 1 })],
    });
    expect(await shopApi.delete('/items/:id', { params: { id: 2 } })).toEqual({ removed: true });
  });

  it('surface a refused call as a RemoteError whose problem lists the invalid fields', async () => {
    const { client } = await shopService();
    const shopApi = serviceClient<ShopRoutes>(client, 'shop');
    // What only an untyped caller can send.
    const err = await shopApi.post('/items', { body: { name: '', price: -1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ status: 400, remoteCode: 'SMART_SERVICE_VALIDATION_FAILED', service: 'shop' });
    const missing = await shopApi.get('/items/:id', { params: { id: 9 } }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404 });
  });

  it('from a module generated from the OpenAPI document: the same calls, the same answers', async () => {
    const { app, client } = await shopService();
    const generated = generateClientModule(app.openapi.document as Record<string, unknown>, {
      source: 'http://127.0.0.1:3000/openapi.json',
      from: '../../src/index.ts',
    });
    if (process.env.UPDATE_GENERATED) await writeFile(GENERATED, generated);
    // The committed module (type-checked by test/types) is what the generator makes today.
    expect(generated).toBe(await readFile(GENERATED, 'utf8'));
    const typed = shopClient(client);
    expect(await typed.get('/items/:id', { params: { id: 1 } })).toMatchObject({ name: 'kite' });
  });

  it('type-check right calls and refuse wrong paths, missing body fields and wrong answer types (tsc)', async () => {
    const tsc = new URL('../../../node_modules/.bin/tsc', import.meta.url).pathname;
    const project = new URL('./types/tsconfig.json', import.meta.url).pathname;
    // Every @ts-expect-error line must fail to compile, every other line must compile.
    const run = await promisify(execFile)(tsc, ['--noEmit', '-p', project]).then(
      () => ({ code: 0, out: '' }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    expect(run.out).toBe('');
    expect(run.code).toBe(0);
  }, 60_000);
});
