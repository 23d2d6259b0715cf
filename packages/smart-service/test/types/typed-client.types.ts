/**
 * Calls that must and must not compile (`tsc --noEmit -p test/types`, run by
 * test/api-types.test.ts and by `pnpm typecheck`): each `@ts-expect-error`
 * fails the build when its line compiles. Never run, only type-checked.
 */
import type { SmartClient } from 'smart-client';
import { serviceClient } from '../../src/index.ts';
import type { ShopRoutes } from '../fixtures/shop.ts';
import { shopClient } from './shop-client.generated.ts';

declare const client: SmartClient;
declare function expectType<T>(value: T): void;

// In one workspace: the route contracts' type, imported from the service.
const shop = serviceClient<ShopRoutes>(client, 'shop');

export async function rightCalls() {
  const item = await shop.get('/items/:id', { params: { id: 1 } });
  expectType<number>(item.id);
  expectType<string[]>(item.tags);
  expectType<number | undefined>(item.stock);
  const list = await shop.get('/items', { query: { tag: 'toy', limit: 5 } });
  expectType<string>(list.items[0]?.name ?? '');
  await shop.get('/items'); // the query is optional: every member is
  const created = await shop.post('/items', { body: { name: 'ball', price: 3 }, timeout: 500 });
  expectType<number>(created.price);
  const removed = await shop.delete('/items/:id', { params: { id: 2 }, headers: { 'x-why': 'test' } });
  expectType<boolean>(removed.removed);
}

export async function wrongCalls() {
  // @ts-expect-error a path the service does not have
  await shop.get('/item/:id', { params: { id: 1 } });
  // @ts-expect-error a path it has, on another method
  await shop.put('/items', { body: { name: 'ball', price: 3 } });
  // @ts-expect-error the body's required price is missing
  await shop.post('/items', { body: { name: 'ball' } });
  // @ts-expect-error a body is required
  await shop.post('/items');
  // @ts-expect-error a value the enum does not have
  await shop.post('/items', { body: { name: 'ball', price: 3, kind: 'car' } });
  // @ts-expect-error the path parameter is a number
  await shop.get('/items/:id', { params: { id: 'one' } });
  // @ts-expect-error the params are required
  await shop.get('/items/:id');
  // @ts-expect-error a route without a body takes none
  await shop.get('/items', { body: { name: 'x' } });
  const item = await shop.get('/items/:id', { params: { id: 1 } });
  // @ts-expect-error the answer's name is a string
  expectType<number>(item.name);
  // @ts-expect-error the answer has no such field
  item.secret;
}

// Across repositories: the module `smart api client` generated from the service's /openapi.json.
const generated = shopClient(client);

export async function generatedCalls() {
  const item = await generated.get('/items/:id', { params: { id: 1 } });
  expectType<string>(item.name);
  const created = await generated.post('/items', { body: { name: 'ball', price: 3, kind: 'toy' } });
  expectType<number>(created.id);
  // @ts-expect-error a path the service does not have
  await generated.get('/nothing');
  // @ts-expect-error the body's required name is missing
  await generated.post('/items', { body: { price: 3 } });
  // @ts-expect-error the answer's price is a number
  expectType<string>(item.price);
}
