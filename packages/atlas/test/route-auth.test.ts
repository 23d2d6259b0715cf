import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, createToken, freshDatabase, startAtlas } from './helper.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function setup() {
  const { base } = await startAtlas(url, {
    extraEnv: {
      SMART_ATLAS__ALLOWED_HOSTS: JSON.stringify({ testing: ['127.0.0.0/8'], eu: ['10.0.0.0/8', '*.eu.internal'] }),
    },
  });
  const tokens = {
    catalog: await createToken(base, { name: `catalog-${Math.random()}`, scope: 'catalog', realm: 'testing' }),
    billing: await createToken(base, {
      name: `billing-${Math.random()}`,
      scope: 'service',
      service: 'billing',
      realm: 'testing',
    }),
    ordersProd: await createToken(base, {
      name: `orders-prod-${Math.random()}`,
      scope: 'service',
      service: 'orders',
      realm: 'production',
    }),
    adminTesting: await createToken(base, { name: `admin-t-${Math.random()}`, scope: 'admin', realm: 'testing' }),
  };
  const registered = await call(base, 'PUT', '/v1/services/orders/instances/o-1', {
    token: ADMIN_TOKEN,
    body: { host: '127.0.0.1', port: 4001, realm: 'testing' },
  });
  expect(registered.status).toBe(200);
  return { base, tokens };
}

describe('auth on the decoded route', () => {
  it('authenticates an encoded /v1 path like the plain one (/%761/... runs the /v1 route only with a token)', async () => {
    const { base, tokens } = await setup();
    for (const path of [
      '/%761/services?realm=testing',
      '/%76%31/services?realm=testing',
      '/v%31/services?realm=testing',
    ]) {
      expect((await call(base, 'GET', path)).status).toBe(401);
      const ok = await call(base, 'GET', path, { token: tokens.catalog });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual([{ service: 'orders', instances: 1 }]);
    }
    expect((await call(base, 'DELETE', '/%761/services/orders/instances/o-1')).status).toBe(401);
    expect((await call(base, 'HEAD', '/%761/services?realm=testing')).status).toBe(401);
    const still = await call(base, 'GET', '/v1/services/orders/instances?realm=testing', { token: ADMIN_TOKEN });
    expect(still.body.map((i: { id: string }) => i.id)).toEqual(['o-1']);
  });

  it('refuses tokens in the query string whatever their encoding or case, before authentication', async () => {
    const { base, tokens } = await setup();
    for (const query of [
      'token=x',
      '%74oken=x',
      '%74%6f%6b%65%6e=x',
      'TOKEN=x',
      'Access_Token=x',
      'access%5Ftoken=x',
      'api_key=x',
      'apikey=x',
      'token[]=x',
      'a=1&auth=x',
    ]) {
      const res = await call(base, 'GET', `/v1/services?realm=testing&${query}`, { token: tokens.catalog });
      expect({ query, status: res.status, code: res.body.code }).toEqual({
        query,
        status: 400,
        code: 'SMART_ATLAS_TOKEN_IN_QUERY',
      });
    }
    expect((await call(base, 'GET', '/%761/services?realm=testing&%74oken=x')).body.code).toBe(
      'SMART_ATLAS_TOKEN_IN_QUERY',
    );
  });

  it('checks permission before existence: other realms and other services learn no ids (403 either way)', async () => {
    const { base, tokens } = await setup();
    const both = async (method: string, suffix: string, token: string, body?: unknown) => [
      (await call(base, method, `/v1/services/orders/instances/o-1${suffix}`, { token, body })).status,
      (await call(base, method, `/v1/services/orders/instances/no-such-id${suffix}`, { token, body })).status,
    ];
    expect(await both('DELETE', '', tokens.billing)).toEqual([403, 403]);
    expect(await both('DELETE', '', tokens.catalog)).toEqual([403, 403]);
    expect(await both('DELETE', '', tokens.ordersProd)).toEqual([403, 403]);
    expect(await both('PUT', '/disabled', tokens.ordersProd, { disabled: true })).toEqual([403, 403]);
    expect(await both('PUT', '/disabled', tokens.catalog, { disabled: true })).toEqual([403, 403]);
    // An admin of every realm is told what exists.
    expect(
      (await call(base, 'DELETE', '/v1/services/orders/instances/no-such-id', { token: ADMIN_TOKEN })).status,
    ).toBe(404);
    // The realm's own admin may drain its instance.
    const drained = await call(base, 'PUT', '/v1/services/orders/instances/o-1/disabled', {
      token: tokens.adminTesting,
      body: { disabled: true },
    });
    expect(drained.status).toBe(200);
  });
});

describe('instance hosts at registration', () => {
  const register = (base: string, host: string, realm = 'production') =>
    call(base, 'PUT', '/v1/services/orders/instances/h-1', { token: ADMIN_TOKEN, body: { host, port: 4100, realm } });

  it('refuses non-routable and metadata hosts in every spelling with 422 naming the rule', async () => {
    const { base } = await setup();
    const cases: [string, string][] = [
      ['169.254.169.254', 'link-local'],
      ['::ffff:169.254.169.254', 'link-local'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fd00:ec2::254', 'link-local'],
      ['metadata.google.internal', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['127.0.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['localhost', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
    ];
    for (const [host, rule] of cases) {
      const res = await register(base, host);
      expect({ host, status: res.status, code: res.body.code, rule: res.body.rule }).toEqual({
        host,
        status: 422,
        code: 'SMART_ATLAS_HOST_NOT_ALLOWED',
        rule,
      });
      expect(res.body.detail).toContain(`rule "${rule}"`);
    }
    expect((await register(base, '10.0.3.7')).status).toBe(200);
    expect((await register(base, 'orders-1.prod.internal')).status).toBe(200);
  });

  it('allows loopback in realm local and where the realm allow-lists it; a realm allow list admits only its hosts', async () => {
    const { base } = await setup();
    expect((await register(base, '127.0.0.1', 'local')).status).toBe(200);
    expect((await register(base, '127.0.0.1', 'testing')).status).toBe(200);
    expect((await register(base, '10.1.2.3', 'eu')).status).toBe(200);
    expect((await register(base, 'orders.eu.internal', 'eu')).status).toBe(200);
    const outside = await register(base, '192.168.1.9', 'eu');
    expect(outside).toMatchObject({ status: 422, body: { code: 'SMART_ATLAS_HOST_NOT_ALLOWED', rule: 'allow-list' } });
    // The always-refused rules win over a realm's list.
    expect((await register(base, '169.254.169.254', 'local')).body.rule).toBe('link-local');
  });

  it('refuses a host with CR/LF, spaces, brackets or a zone, and a name that is not a service name, at the schema', async () => {
    const { base } = await setup();
    for (const host of ['evil\r\nX-Injected: 1', 'a b', '[::1]', 'fe80::1%eth0', 'x/y', 'user@host', '']) {
      expect({ host, status: (await register(base, host)).status }).toEqual({ host, status: 400 });
    }
    for (const service of ['Orders', 'orders_svc', '-orders', 'orders%0d%0a']) {
      const res = await call(base, 'PUT', `/v1/services/${service}/instances/x-1`, {
        token: ADMIN_TOKEN,
        body: { host: '10.0.0.1', port: 80, realm: 'production' },
      });
      expect({ service, status: res.status }).toEqual({ service, status: 400 });
    }
  });
});
