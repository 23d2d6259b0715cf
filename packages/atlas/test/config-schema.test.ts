import { Writable } from 'node:stream';
import { configJsonSchema, defineConfig, secret } from 'smart-config';
import { createSmartService } from 'smart-service';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { ADMIN_TOKEN, call, createToken, freshDatabase, startAtlas } from './helper.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

const ordersConfig = defineConfig({
  schema: z.object({
    greeting: z.string().min(1),
    db: z.object({ url: z.string(), poolMax: z.number().int().min(1).max(100) }),
    mode: z.enum(['fast', 'safe']),
    limits: z.record(z.string(), z.number().positive()),
  }),
  defaults: {
    greeting: 'hi',
    db: { url: secret({ local: 'postgres://localhost/orders' }), poolMax: 10 },
    mode: 'safe',
    limits: {},
  },
});

async function setup() {
  const { base } = await startAtlas(url);
  const suffix = Math.random().toString(36).slice(2, 8);
  const orders = await createToken(base, {
    name: `orders-${suffix}`,
    scope: 'service',
    service: 'orders',
    realm: 'testing',
  });
  const billing = await createToken(base, {
    name: `billing-${suffix}`,
    scope: 'service',
    service: 'billing',
    realm: 'testing',
  });
  const catalog = await createToken(base, { name: `catalog-${suffix}`, scope: 'catalog', realm: 'testing' });
  return { base, orders, billing, catalog };
}

const put = (base: string, path: string, body: unknown, token = ADMIN_TOKEN) =>
  call(base, 'PUT', path, { token, body });

describe('config schemas', () => {
  it('a service publishes its schema (its own token or an admin); others may not; any token of the realm reads it', async () => {
    const { base, orders, billing, catalog } = await setup();
    const schema = configJsonSchema(ordersConfig);
    expect((await put(base, '/v1/config-schema/orders/testing', { schema }, orders)).status).toBe(204);
    expect((await put(base, '/v1/config-schema/orders/testing', { schema }, billing)).status).toBe(403);
    expect((await put(base, '/v1/config-schema/orders/testing', { schema }, catalog)).status).toBe(403);
    expect((await put(base, '/v1/config-schema/orders/production', { schema }, orders)).status).toBe(403);
    const read = await call(base, 'GET', '/v1/config-schema/orders/testing', { token: catalog });
    expect(read.status).toBe(200);
    expect(read.body.schema.properties.db.properties.url['x-smart-secret']).toBe(true);
    expect((await call(base, 'GET', '/v1/config-schema/billing/testing', { token: catalog })).status).toBe(404);
  });

  it('refuses a write the schema refuses with 422 naming the key and the rule, and stores nothing', async () => {
    const { base, orders } = await setup();
    await put(base, '/v1/config-schema/orders/testing', { schema: configJsonSchema(ordersConfig) }, orders);
    const cases: [string, unknown, string][] = [
      ['db.poolMax', 500, '<= 100'],
      ['db.poolMax', 'lots', 'must be integer'],
      ['mode', 'reckless', 'allowed values'],
      ['greeting', '', 'fewer than 1'],
      ['limits.rps', -1, '> 0'],
      ['no.such.key', 1, 'no such key'],
    ];
    for (const [key, value, rule] of cases) {
      const res = await put(base, `/v1/config/orders/testing/${key}`, { value });
      expect({ key, status: res.status, code: res.body.code, key_: res.body.key }).toEqual({
        key,
        status: 422,
        code: 'SMART_ATLAS_INVALID_CONFIG',
        key_: key,
      });
      expect(res.body.rule).toContain(rule);
      expect(res.body.detail).toContain(key);
    }
    const stored = await call(base, 'GET', '/v1/config/orders/testing', { token: ADMIN_TOKEN });
    expect(stored.body.entries).toEqual([]);
    // Good values (a number as a string included, as smart-config coerces it) are stored.
    expect((await put(base, '/v1/config/orders/testing/db.poolMax', { value: 20 })).status).toBe(204);
    expect((await put(base, '/v1/config/orders/testing/db.poolMax', { value: '30' })).status).toBe(204);
    expect((await put(base, '/v1/config/orders/testing/limits.rps', { value: 5 })).status).toBe(204);
    expect((await put(base, '/v1/config/orders/testing/mode', { value: 'fast' })).status).toBe(204);
  });

  it('refuses a plain write to a key the schema declares secret; a secret write is stored sealed', async () => {
    const { base, orders } = await setup();
    await put(base, '/v1/config-schema/orders/testing', { schema: configJsonSchema(ordersConfig) }, orders);
    const plain = await put(base, '/v1/config/orders/testing/db.url', { value: 'postgres://u:pw@db/orders' });
    expect(plain.status).toBe(422);
    expect(plain.body).toMatchObject({ code: 'SMART_ATLAS_SECRET_KEY', key: 'db.url' });
    expect(JSON.stringify(plain.body)).not.toContain('pw@db');
    const sealed = await put(base, '/v1/config/orders/testing/db.url', {
      value: 'postgres://u:pw@db/orders',
      secret: true,
    });
    expect(sealed.status).toBe(204);
    const entry = await call(base, 'GET', '/v1/config/orders/testing/db.url', { token: ADMIN_TOKEN });
    expect(entry.body).toMatchObject({ key: 'db.url', secret: true });
  });

  it('checks a _global write against every schema of the realm that has the key; no schema, no check', async () => {
    const { base, orders } = await setup();
    await put(base, '/v1/config-schema/orders/testing', { schema: configJsonSchema(ordersConfig) }, orders);
    const bad = await put(base, '/v1/config/_global/testing/mode', { value: 'reckless' });
    expect(bad).toMatchObject({ status: 422, body: { code: 'SMART_ATLAS_INVALID_CONFIG', key: 'mode' } });
    expect((await put(base, '/v1/config/_global/testing/region', { value: 'eu' })).status).toBe(204);
    // A service that published nothing is not checked.
    expect((await put(base, '/v1/config/billing/testing/anything', { value: { any: 'thing' } })).status).toBe(204);
    // Another realm has its own schemas (none here).
    expect((await put(base, '/v1/config/orders/production/db.poolMax', { value: 5000 })).status).toBe(204);
  });

  it('a smart service publishes its schema (its keys and the service keys) when it registers, and Atlas checks with it', async () => {
    const { base } = await setup();
    const app = await createSmartService({
      name: 'checkout',
      config: defineConfig({
        schema: z.object({ maxItems: z.number().int().max(10), apiKey: z.string() }),
        defaults: { maxItems: 5, apiKey: secret({ local: 'dev-key' }) },
      }),
      realm: 'testing',
      env: {
        SMART_ATLAS_URL: base,
        SMART_ATLAS_TOKEN: ADMIN_TOKEN,
        SMART_ATLAS_ADVERTISE_HOST: '127.0.0.1',
        SMART_API_KEY: 'k',
        SMART_PROTECTION__SHEDDING__ENABLED: 'false',
      },
      logDestination: new Writable({ write: (_c, _e, done) => done() }),
    });
    onTestFinished(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    // Registration (and so publication) runs in Fastify's onListen hooks, which listen() does not wait for.
    let published = await call(base, 'GET', '/v1/config-schema/checkout/testing', { token: ADMIN_TOKEN });
    for (let i = 0; i < 100 && published.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      published = await call(base, 'GET', '/v1/config-schema/checkout/testing', { token: ADMIN_TOKEN });
    }
    expect(published.status).toBe(200);
    expect(published.body.schema.properties.apiKey['x-smart-secret']).toBe(true);
    const refused = await put(base, '/v1/config/checkout/testing/maxItems', { value: 50 });
    expect(refused).toMatchObject({ status: 422, body: { code: 'SMART_ATLAS_INVALID_CONFIG', key: 'maxItems' } });
    const port = await put(base, '/v1/config/checkout/testing/http.port', { value: 'eighty' });
    expect(port).toMatchObject({ status: 422, body: { key: 'http.port' } });
    expect((await put(base, '/v1/config/checkout/testing/apiKey', { value: 'plain' })).body.code).toBe(
      'SMART_ATLAS_SECRET_KEY',
    );
    expect((await put(base, '/v1/config/checkout/testing/maxItems', { value: 8 })).status).toBe(204);
  });
});
