// The Atlas auth matrix against a real Atlas (chaos/lib/atlas.ts): every
// endpoint for no token, wrong-scope tokens, wrong-realm tokens and the right
// token, by its plain path and by percent-encoded spellings of it (`/%761/...`
// reaches the same route, so it must meet the same check), and tokens in the
// query string refused whatever their encoding or case, for every caller.
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, freePort, startAtlas } from '../lib/atlas.ts';
import { report } from '../lib/figures.ts';

type Who = 'none' | 'admin' | 'orders' | 'billing' | 'catalog' | 'ordersProd' | 'adminProd';
interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Expected status per caller: billing and catalog are the wrong scope for writes, *Prod the wrong realm. */
  readonly expect: Record<Who, number>;
}

const READ = { none: 401, admin: 200, orders: 200, billing: 200, catalog: 200, ordersProd: 403, adminProd: 403 };
const ADMIN_ONLY = (ok: number) => ({
  none: 401,
  admin: ok,
  orders: 403,
  billing: 403,
  catalog: 403,
  ordersProd: 403,
  adminProd: 403,
});
const CASES: Case[] = [
  {
    name: 'register an orders instance',
    method: 'PUT',
    path: '/v1/services/orders/instances/o-2',
    body: { host: '127.0.0.1', port: 4002, realm: 'testing' },
    expect: { none: 401, admin: 200, orders: 200, billing: 403, catalog: 403, ordersProd: 403, adminProd: 403 },
  },
  { name: 'list orders instances', method: 'GET', path: '/v1/services/orders/instances?realm=testing', expect: READ },
  { name: 'read the catalog', method: 'GET', path: '/v1/services?realm=testing', expect: READ },
  {
    name: 'drain an instance',
    method: 'PUT',
    path: '/v1/services/orders/instances/o-1/disabled',
    body: { disabled: false },
    expect: ADMIN_ONLY(200),
  },
  { name: 'read orders config', method: 'GET', path: '/v1/config/orders/testing', expect: READ },
  { name: 'read one orders key', method: 'GET', path: '/v1/config/orders/testing/db.poolMax', expect: READ },
  {
    name: 'set an orders key',
    method: 'PUT',
    path: '/v1/config/orders/testing/feature.x',
    body: { value: true },
    expect: ADMIN_ONLY(204),
  },
  {
    name: 'unset an orders key',
    method: 'DELETE',
    path: '/v1/config/orders/testing/feature.x',
    expect: ADMIN_ONLY(204),
  },
  {
    name: 'unset every key of a service',
    method: 'DELETE',
    path: '/v1/config/scratch/testing',
    expect: ADMIN_ONLY(204),
  },
  {
    name: 'revoke a token',
    method: 'DELETE',
    path: '/v1/tokens/00000000-0000-0000-0000-000000000000',
    expect: ADMIN_ONLY(404),
  },
  {
    name: 'create a token',
    method: 'POST',
    path: '/v1/tokens',
    body: { scope: 'catalog', realm: 'testing' },
    expect: ADMIN_ONLY(201),
  },
  { name: 'read the audit trail', method: 'GET', path: '/v1/audit', expect: ADMIN_ONLY(200) },
  {
    name: 'deregister an orders instance',
    method: 'DELETE',
    path: '/v1/services/orders/instances/o-2',
    expect: ADMIN_ONLY(204),
  },
];

/** `/v1/...` as written and as encoded spellings of the same route. */
const SPELLINGS: [string, string][] = [
  ['/v1/', '/v1/'],
  ['/v1/', '/%761/'],
  ['/v1/', '/%76%31/'],
  ['/v1/', '/v%31/'],
];

/** Tokens in the query string, in encodings and cases a naive check misses. */
const QUERY_TOKENS = ['%74oken=x', 'access_token=x', 'Access_Token=x', 'ACCESS%5FTOKEN=x', 'TOKEN=x', '%54oken=x'];

async function setup() {
  const atlas = await startAtlas(await freePort());
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${atlas.base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    return { status: res.status, code: (parsed as { code?: string } | undefined)?.code, body: parsed };
  };
  const token = async (spec: Record<string, string>) => {
    const res = await fetch(`${atlas.base}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    if (res.status !== 201) throw new Error(`token not created: ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  const tokens: Record<Exclude<Who, 'none'>, string> = {
    admin: ADMIN_TOKEN,
    orders: await token({ name: 'orders-svc', scope: 'service', service: 'orders', realm: 'testing' }),
    billing: await token({ name: 'billing-svc', scope: 'service', service: 'billing', realm: 'testing' }),
    catalog: await token({ name: 'dashboard', scope: 'catalog', realm: 'testing' }),
    ordersProd: await token({ name: 'orders-prod', scope: 'service', service: 'orders', realm: 'production' }),
    adminProd: await token({ name: 'prod-admin', scope: 'admin', realm: 'production' }),
  };
  expect((await call('PUT', '/v1/config/orders/testing/db.poolMax', ADMIN_TOKEN, { value: 20 })).status).toBe(204);
  const registered = await call('PUT', '/v1/services/orders/instances/o-1', ADMIN_TOKEN, {
    host: '127.0.0.1',
    port: 4001,
    realm: 'testing',
  });
  expect(registered.status).toBe(200);
  return { call, tokens };
}

describe('client: the Atlas auth matrix', () => {
  it('every endpoint, plain and encoded, for no token, wrong scope, wrong realm and the right token', async () => {
    const { call, tokens } = await setup();
    // Callers in an order where a state-changing call by a permitted caller comes last.
    const order: Who[] = ['none', 'catalog', 'billing', 'ordersProd', 'adminProd', 'orders', 'admin'];
    const seen: string[] = [];
    const wanted: string[] = [];
    let n = 0;
    for (const [plain, spelled] of SPELLINGS) {
      for (const testCase of CASES) {
        const path = testCase.path.replace(plain, spelled);
        for (const who of order) {
          // The orders service may deregister its own instance; admin does it here, so the next round starts alike.
          if (testCase.name === 'deregister an orders instance' && who === 'orders') continue;
          const body =
            testCase.path === '/v1/tokens' ? { ...(testCase.body as object), name: `t-${n++}` } : testCase.body;
          const res = await call(testCase.method, path, who === 'none' ? undefined : tokens[who], body);
          seen.push(`${testCase.method} ${path} as ${who}: ${res.status}`);
          wanted.push(`${testCase.method} ${path} as ${who}: ${testCase.expect[who]}`);
          if (res.status >= 400) expect(res.code).toMatch(/^SMART_ATLAS_(UNAUTHORIZED|FORBIDDEN|NOT_FOUND)$/);
        }
      }
    }
    report('client-atlas-auth-matrix', {
      endpoints: CASES.length,
      spellings: SPELLINGS.length,
      callers: order.length,
      cases: seen.length,
      wrong: seen.filter((line, i) => line !== wanted[i]).length,
    });
    expect(seen).toEqual(wanted);
  });

  it('a token in the query string is refused (400 SMART_ATLAS_TOKEN_IN_QUERY) on every endpoint, for every caller', async () => {
    const { call, tokens } = await setup();
    const seen: string[] = [];
    for (const testCase of CASES) {
      for (const spelled of ['/v1/', '/%761/']) {
        for (const query of [...QUERY_TOKENS, `%74oken=${tokens.admin}`]) {
          const path = testCase.path.replace('/v1/', spelled);
          const url = `${path}${path.includes('?') ? '&' : '?'}${query}`;
          for (const who of ['none', 'catalog', 'ordersProd', 'admin'] as const) {
            const res = await call(testCase.method, url, who === 'none' ? undefined : tokens[who], testCase.body);
            seen.push(`${testCase.method} ${url} as ${who}: ${res.status} ${res.code}`);
          }
        }
      }
    }
    const refused = seen.filter((line) => line.endsWith(': 400 SMART_ATLAS_TOKEN_IN_QUERY'));
    report('client-atlas-auth-query-tokens', { cases: seen.length, refused: refused.length });
    expect(seen.filter((line) => !line.endsWith(': 400 SMART_ATLAS_TOKEN_IN_QUERY'))).toEqual([]);
    // Nothing a refused call would have done was done: o-1 is still the only instance, and no key was set.
    const list = await call('GET', '/v1/services/orders/instances?realm=testing', tokens.admin);
    expect((list.body as { id: string }[]).map((instance) => instance.id)).toEqual(['o-1']);
    expect((await call('GET', '/v1/config/orders/testing/feature.x', tokens.admin)).status).toBe(404);
  });
});
