import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, freshDatabase, startAtlas } from './helper.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

const admin = { token: ADMIN_TOKEN };
const register = (base: string, id: string, body: Record<string, unknown> = {}) =>
  call(base, 'PUT', `/v1/services/orders/instances/${id}`, {
    ...admin,
    body: { host: '127.0.0.1', port: 3001, realm: 'testing', version: '1.0.0', metadata: { zone: 'a' }, ...body },
  });

describe('instances', () => {
  it('registers, heartbeats, lists healthy instances and the catalog, and deregisters', async () => {
    const { base } = await startAtlas(url);
    const first = await register(base, 'i-1', { ttlSeconds: 30 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      service: 'orders',
      id: 'i-1',
      url: 'http://127.0.0.1:3001',
      metadata: { zone: 'a' },
    });
    await register(base, 'i-2', { port: 3002 });
    await register(base, 'i-9', { realm: 'production', host: '10.0.0.9', port: 3009 });

    await new Promise((resolve) => setTimeout(resolve, 20));
    const beat = await register(base, 'i-1', { ttlSeconds: 30 });
    expect(beat.body.registeredAt).toBe(first.body.registeredAt);
    expect(beat.body.expiresAt).toBeGreaterThan(first.body.expiresAt);

    const list = await call(base, 'GET', '/v1/services/orders/instances?realm=testing', admin);
    expect(list.status).toBe(200);
    expect(list.body.map((i: { id: string }) => i.id)).toEqual(['i-1', 'i-2']);
    expect(Number(list.index)).toBeGreaterThan(0);
    expect((await call(base, 'GET', '/v1/services?realm=testing', admin)).body).toEqual([
      { service: 'orders', instances: 2 },
    ]);
    expect((await call(base, 'GET', '/v1/services?realm=production', admin)).body).toEqual([
      { service: 'orders', instances: 1 },
    ]);

    expect((await call(base, 'DELETE', '/v1/services/orders/instances/i-2', admin)).status).toBe(204);
    expect((await call(base, 'DELETE', '/v1/services/orders/instances/i-2', admin)).status).toBe(404);
    const after = await call(base, 'GET', '/v1/services/orders/instances?realm=testing', admin);
    expect(after.body.map((i: { id: string }) => i.id)).toEqual(['i-1']);
  });

  it('stops returning an instance once its TTL passes, and wakes watchers when it does', async () => {
    const { base } = await startAtlas(url);
    await register(base, 'short', { ttlSeconds: 1, port: 3100 });
    const listed = await call(base, 'GET', '/v1/services/orders/instances?realm=testing', admin);
    expect(listed.body.map((i: { id: string }) => i.id)).toContain('short');
    const started = Date.now();
    const woken = await call(
      base,
      'GET',
      `/v1/services/orders/instances?realm=testing&index=${listed.index}&wait=10s`,
      admin,
    );
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(woken.body.map((i: { id: string }) => i.id)).not.toContain('short');
  });

  it('drains an instance when an admin disables it, and returns it when enabled again', async () => {
    const { atlas, base } = await startAtlas(url);
    await register(base, 'drain-me', { port: 3200 });
    const off = await call(base, 'PUT', '/v1/services/orders/instances/drain-me/disabled', {
      ...admin,
      body: { disabled: true },
    });
    expect(off).toMatchObject({ status: 200, body: { disabled: true } });
    const ids = async () =>
      (await call(base, 'GET', '/v1/services/orders/instances?realm=testing', admin)).body.map(
        (i: { id: string }) => i.id,
      );
    expect(await ids()).not.toContain('drain-me');
    await register(base, 'drain-me', { port: 3200 }); // a heartbeat does not undo a drain
    expect(await ids()).not.toContain('drain-me');
    await call(base, 'PUT', '/v1/services/orders/instances/drain-me/disabled', { ...admin, body: { disabled: false } });
    expect(await ids()).toContain('drain-me');
    expect((await atlas.atlasStore.tokens.listAudit(10)).map((e) => e.action)).toEqual(
      expect.arrayContaining(['instance.disable', 'instance.enable']),
    );
  });

  it('refuses bad registrations with problem+json 400 naming the field', async () => {
    const { base } = await startAtlas(url);
    const bad = await register(base, 'x', { port: 70_000 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 'SMART_SERVICE_VALIDATION_FAILED',
      errors: [{ in: 'body', field: '/port' }],
    });
    expect((await register(base, 'bad id with spaces')).status).toBe(400);
    expect((await call(base, 'PUT', '/v1/services/Orders/instances/x', { ...admin, body: {} })).status).toBe(400);
    expect((await call(base, 'GET', '/v1/services/orders/instances', admin)).body.errors[0]).toMatchObject({
      field: '/realm',
    });
  });
});
