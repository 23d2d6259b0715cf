import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, createToken, freshDatabase, logLines, MASTER_KEY, startAtlas } from './helper.ts';

let url: string;
let base: string;
let tokens: Record<'admin' | 'orders' | 'billing' | 'catalog' | 'ordersProd' | 'adminProd', string>;
const SECRET_VALUE = 'super-secret-db-password-77';

beforeAll(async () => {
  url = await freshDatabase();
});

async function setup() {
  const started = await startAtlas(url);
  base = started.base;
  tokens = {
    admin: ADMIN_TOKEN,
    orders: await createToken(base, { name: 'orders-svc', scope: 'service', service: 'orders', realm: 'testing' }),
    billing: await createToken(base, { name: 'billing-svc', scope: 'service', service: 'billing', realm: 'testing' }),
    catalog: await createToken(base, { name: 'dashboard', scope: 'catalog', realm: 'testing' }),
    ordersProd: await createToken(base, {
      name: 'orders-prod',
      scope: 'service',
      service: 'orders',
      realm: 'production',
    }),
    adminProd: await createToken(base, { name: 'prod-admin', scope: 'admin', realm: 'production' }),
  };
  await call(base, 'PUT', '/v1/config/orders/testing/db.password', {
    token: ADMIN_TOKEN,
    body: { value: SECRET_VALUE, secret: true },
  });
  await call(base, 'PUT', '/v1/config/orders/testing/db.poolMax', { token: ADMIN_TOKEN, body: { value: 20 } });
  await call(base, 'PUT', '/v1/services/orders/instances/o-1', {
    token: ADMIN_TOKEN,
    body: { host: '127.0.0.1', port: 4001, realm: 'testing' },
  });
  return started.atlas;
}

type Who = 'none' | 'admin' | 'orders' | 'billing' | 'catalog' | 'ordersProd' | 'adminProd';
interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  /** Expected status per caller. */
  expect: Record<Who, number>;
}

const register = { host: '127.0.0.1', port: 4002, realm: 'testing' };
const CASES: Case[] = [
  {
    name: 'register an orders instance',
    method: 'PUT',
    path: '/v1/services/orders/instances/o-2',
    body: register,
    expect: { none: 401, admin: 200, orders: 200, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'list orders instances in testing',
    method: 'GET',
    path: '/v1/services/orders/instances?realm=testing',
    expect: { none: 401, admin: 200, orders: 200, billing: 200, catalog: 200, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'read the catalog of testing',
    method: 'GET',
    path: '/v1/services?realm=testing',
    expect: { none: 401, admin: 200, orders: 200, billing: 200, catalog: 200, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'drain an instance',
    method: 'PUT',
    path: '/v1/services/orders/instances/o-1/disabled',
    body: { disabled: false },
    expect: { none: 401, admin: 200, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'read orders config in testing',
    method: 'GET',
    path: '/v1/config/orders/testing',
    expect: { none: 401, admin: 200, orders: 200, billing: 200, catalog: 200, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'read one orders key in testing',
    method: 'GET',
    path: '/v1/config/orders/testing/db.poolMax',
    expect: { none: 401, admin: 200, orders: 200, billing: 200, catalog: 200, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'set an orders key',
    method: 'PUT',
    path: '/v1/config/orders/testing/feature.x',
    body: { value: true },
    expect: { none: 401, admin: 204, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'unset an orders key',
    method: 'DELETE',
    path: '/v1/config/orders/testing/feature.x',
    expect: { none: 401, admin: 204, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'unset every key of a service',
    method: 'DELETE',
    path: '/v1/config/scratch/testing',
    expect: { none: 401, admin: 204, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'revoke a token',
    method: 'DELETE',
    path: '/v1/tokens/00000000-0000-0000-0000-000000000000',
    expect: { none: 401, admin: 404, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'create a token',
    method: 'POST',
    path: '/v1/tokens',
    body: { name: 'new', scope: 'catalog', realm: 'testing' },
    expect: { none: 401, admin: 201, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'read the audit trail',
    method: 'GET',
    path: '/v1/audit',
    expect: { none: 401, admin: 200, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  {
    name: 'deregister an orders instance',
    method: 'DELETE',
    path: '/v1/services/orders/instances/o-2',
    expect: { none: 401, admin: 204, orders: 403, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
];

describe('auth', () => {
  it('answers every endpoint for no token, wrong scope, wrong realm and the right token as it should', async () => {
    await setup();
    const seen: string[] = [];
    const wanted: string[] = [];
    for (const testCase of CASES) {
      // Callers in an order where a state-changing call by a permitted caller comes last.
      const order: Who[] = ['none', 'catalog', 'billing', 'ordersProd', 'adminProd', 'orders', 'admin'];
      for (const who of order) {
        if (testCase.name === 'deregister an orders instance' && who === 'orders') continue; // admin does it
        const res = await call(base, testCase.method, testCase.path, {
          ...(who === 'none' ? {} : { token: tokens[who as Exclude<Who, 'none'>] }),
          ...(testCase.body === undefined ? {} : { body: testCase.body }),
        });
        seen.push(`${testCase.name} as ${who}: ${res.status}`);
        wanted.push(`${testCase.name} as ${who}: ${testCase.expect[who]}`);
        if (res.status >= 400) expect(res.body.code).toMatch(/^SMART_ATLAS_(UNAUTHORIZED|FORBIDDEN|NOT_FOUND)$/);
        // Re-create what a permitted delete removed, so the next caller meets the same state.
        if (testCase.method === 'PUT' && testCase.path.endsWith('feature.x') && res.status === 204) break;
      }
    }
    expect(seen).toEqual(wanted);
  });

  it('refuses a revoked or unknown token, and any token in a query string', async () => {
    await setup();
    const temp = await call(base, 'POST', '/v1/tokens', {
      token: ADMIN_TOKEN,
      body: { name: 'temp', scope: 'catalog', realm: 'testing' },
    });
    expect((await call(base, 'GET', '/v1/services?realm=testing', { token: temp.body.token })).status).toBe(200);
    expect((await call(base, 'DELETE', `/v1/tokens/${temp.body.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    expect((await call(base, 'GET', '/v1/services?realm=testing', { token: temp.body.token })).status).toBe(401);
    expect((await call(base, 'GET', '/v1/services?realm=testing', { token: 'atl_made-up' })).status).toBe(401);
    const inQuery = await call(base, 'GET', `/v1/services?realm=testing&token=${tokens.admin}`, {
      token: tokens.admin,
    });
    expect(inQuery).toMatchObject({ status: 400, body: { code: 'SMART_ATLAS_TOKEN_IN_QUERY' } });
  });

  it('gives a secret’s value only to its service and admins; others get the key without it', async () => {
    const atlas = await setup();
    const read = async (token: string) => (await call(base, 'GET', '/v1/config/orders/testing', { token })).body;
    for (const token of [tokens.admin, tokens.orders]) {
      const body = await read(token);
      expect(body.values['db.password']).toBe(SECRET_VALUE);
    }
    for (const token of [tokens.billing, tokens.catalog]) {
      const body = await read(token);
      expect(body.values).toEqual({ 'db.poolMax': 20 });
      expect(body.entries).toContainEqual({ key: 'db.password', secret: true, source: 'orders' });
      expect(JSON.stringify(body)).not.toContain(SECRET_VALUE);
      const one = await call(base, 'GET', '/v1/config/orders/testing/db.password', { token });
      expect(one.body).toEqual({ key: 'db.password', secret: true, source: 'orders' });
    }

    // At rest it is encrypted; the audit trail names the key, never the value; so do the logs.
    const rows = await atlas.atlasStore.config.list(['orders'], 'testing');
    const stored = rows.find((row) => row.key === 'db.password');
    expect(stored).toMatchObject({ secret: true, value: null });
    expect(stored?.ciphertext).toMatch(/^v1:/);
    expect(JSON.stringify(rows)).not.toContain(SECRET_VALUE);
    const audit = await atlas.atlasStore.tokens.listAudit(100);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'config.set-secret', key: 'db.password', target: 'orders/testing' }),
    );
    expect(JSON.stringify(audit)).not.toContain(SECRET_VALUE);
    expect(logLines.join('\n')).not.toContain(SECRET_VALUE);
    expect(logLines.join('\n')).not.toContain(MASTER_KEY);
    expect(logLines.join('\n')).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(audit)).not.toMatch(/atl_/); // no token text either
  });
});
