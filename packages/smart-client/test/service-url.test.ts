import { describe, expect, it, onTestFinished } from 'vitest';
import { codes, createClient, parseServiceUrl, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

const UNSAFE_URLS = [
  'service://users/ann\r\n/../admin', // CR LF: the URL parser would strip them, then resolve the ..
  'service://users/ann\n',
  'service://users/a\tb',
  'service://users/a\u0000b', // NUL
  'service://users/a b',
  'service://users/a\u00a0b',
  'service://users/a\u2028b',
  'service://users/../admin',
  'service://users/x/..',
  'service://users/./admin',
  'service://users/%2e%2e/admin',
  'service://users/%2E%2e/admin',
  'service://users/.%2e/admin',
  'service://users/%2e/admin',
  'service://users/x\\..\\admin',
  'service://users/ann%0d%0aX-Injected:%20yes',
  'service://users/a%00b',
];

describe('service URLs', () => {
  it('refuses control characters, whitespace and dot segments with SMART_CLIENT_BAD_URL, and opens no socket', async () => {
    const up = await upstream((_req, res) => json(res, 200, {}));
    const c = createClient({ resolver: staticResolver({ users: [up.url] }) });
    onTestFinished(() => c.close());
    for (const url of UNSAFE_URLS) {
      const err = await c.get(url).catch((e: { code: string }) => e);
      expect({ url, code: (err as { code?: string }).code }).toEqual({ url, code: codes.badUrl });
      const viaFetch = await c.fetch(url).catch((e: { code: string }) => e);
      expect((viaFetch as { code?: string }).code).toBe(codes.badUrl);
    }
    expect(up.connections()).toBe(0);
    expect(up.seen).toHaveLength(0);
  });

  it('checks a URL once per client yet refuses a bad one on every call, and sends each URL its own path and query', async () => {
    const up = await upstream((req, res) => json(res, 200, { url: req.url }));
    const other = await upstream((req, res) => json(res, 200, { other: req.url }));
    const c = createClient({ resolver: staticResolver({ users: [up.url] }) });
    onTestFinished(() => c.close());
    for (let i = 0; i < 3; i++) {
      await expect(c.get('service://users/../admin')).rejects.toMatchObject({ code: codes.badUrl });
      expect(await c.get('service://users/ann?fields=name')).toEqual({ url: '/ann?fields=name' });
      expect(await c.get('service://users/ann?fields=id')).toEqual({ url: '/ann?fields=id' });
      expect(await c.get(new URL(`${other.url}/x?n=${i}`))).toEqual({ other: `/x?n=${i}` });
    }
    expect(up.seen.map((req) => req.url)).not.toContain('/admin');
  });

  it('sends a path with dots inside names, and dots and encoded bytes in the query, as written', async () => {
    const up = await upstream((_req, res) => json(res, 200, {}));
    const c = createClient({ resolver: staticResolver({ users: [up.url] }) });
    onTestFinished(() => c.close());
    for (const path of ['/a..b/c.json', '/.well-known/x', '/x?next=../y&q=%0a']) {
      await c.get(`service://users${path}`);
    }
    expect(up.seen.map((req) => req.url)).toEqual(['/a..b/c.json', '/.well-known/x', '/x?next=../y&q=%0a']);
    expect(parseServiceUrl('service://users/..well')).toEqual({ service: 'users', path: '/..well' });
  });
});
