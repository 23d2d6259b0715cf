import { describe, expect, it } from 'vitest';
import {
  type ClientOptions,
  createClient,
  envResolver,
  parseServiceUrl,
  RemoteError,
  type ServiceResolver,
  staticResolver,
} from '../src/index.ts';
import { client, failure, json, upstream } from './helper.ts';

describe('service:// resolution', () => {
  it('resolves a service to its instances and spreads calls over them', async () => {
    const a = await upstream((_req, res) => json(res, 200, { from: 'a' }));
    const b = await upstream((_req, res) => json(res, 200, { from: 'b' }));
    const c = client({ resolver: staticResolver({ users: [a.url, b.url] }) });
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => c.get<{ from: string }>('service://users/users/42?x=1')),
    );
    expect(new Set(answers.map((r) => r.from))).toEqual(new Set(['a', 'b']));
    expect(a.seen[0]?.url).toBe('/users/42?x=1');
    expect(a.seen.length + b.seen.length).toBe(40);
  });

  it('reads SMART_SERVICE_<NAME>_URL from the environment, and lets plain http URLs through', async () => {
    const up = await upstream((_req, res) => json(res, 200, { ok: true }));
    const c = client({ resolver: envResolver({ SMART_SERVICE_USER_STORE_URL: up.url }) });
    expect(await c.get('service://user-store/ping')).toEqual({ ok: true });
    expect(await c.get(`${up.url}/direct`)).toEqual({ ok: true });
    expect(up.seen.map((r) => r.url)).toEqual(['/ping', '/direct']);
  });

  it('refuses malformed service URLs with a coded error before any socket opens', async () => {
    const up = await upstream();
    const c = client({ resolver: staticResolver({ users: [up.url] }) });
    for (const bad of [
      'service:///x',
      'service://user:pw@users/x',
      'service://users:8080/x',
      'service://Users/x',
      `service://users/${'a'.repeat(9_000)}`,
      'ftp://x/y',
    ]) {
      expect((await failure(c.get(bad)))?.code).toBe('SMART_CLIENT_BAD_URL');
    }
    expect(parseServiceUrl('http://example.com/x')).toBeUndefined();
    expect((await failure(c.get('service://nobody/x')))?.code).toBe('SMART_CLIENT_NO_INSTANCES');
    expect(up.connections()).toBe(0);
  });

  it('refuses resolved addresses outside the allowed hosts (a poisoned registry entry)', async () => {
    const up = await upstream();
    const poisoned = client({ resolver: staticResolver({ users: ['http://169.254.169.254/latest/meta-data'] }) });
    expect((await failure(poisoned.get('service://users/x')))?.code).toBe('SMART_CLIENT_ADDRESS_NOT_ALLOWED');
    const strict = client({ resolver: staticResolver({ users: [up.url] }), allowedHosts: ['10.0.0.1', /\.internal$/] });
    expect((await failure(strict.get('service://users/x')))?.code).toBe('SMART_CLIENT_ADDRESS_NOT_ALLOWED');
    expect(up.connections()).toBe(0);
  });
});

describe('calls', () => {
  it('fetch answers with a standard Response, error statuses included', async () => {
    const up = await upstream((req, res) =>
      req.url === '/missing' ? json(res, 404, { nope: true }) : json(res, 200, { ok: 1 }),
    );
    const c = client({ resolver: staticResolver({ users: [up.url] }) });
    const ok = await c.fetch('service://users/x', {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(ok).toBeInstanceOf(Response);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: 1 });
    const missing = await c.fetch('service://users/missing');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ nope: true });
    expect(up.seen[0]?.method).toBe('POST');
  });

  it('carries request id, trace context, caller and deadline from the current request', async () => {
    const up = await upstream((_req, res) => json(res, 200, {}));
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const deadline = Date.now() + 5_000;
    const c = client({
      resolver: staticResolver({ users: [up.url] }),
      context: () => ({ requestId: 'req-77', traceparent, tracestate: 'vendor=1', caller: 'fibfrontend', deadline }),
    });
    await c.get('service://users/x');
    const headers = up.seen[0]?.headers ?? {};
    expect(headers['x-request-id']).toBe('req-77');
    expect(headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(headers.traceparent).not.toBe(traceparent); // a new parent id for this hop
    expect(headers.tracestate).toBe('vendor=1');
    expect(headers['x-smart-caller']).toBe('fibfrontend');
    expect(Number(headers['x-smart-deadline'])).toBe(deadline);
  });

  it('sends no trace context when the call runs in none (no SDK, no incoming traceparent): the next service decides', async () => {
    const up = await upstream((_req, res) => json(res, 200, {}));
    const c = client({
      resolver: staticResolver({ users: [up.url] }),
      context: () => ({ requestId: 'req-78', tracestate: 'vendor=1', caller: 'fibfrontend' }),
    });
    await c.get('service://users/x');
    await c.fetch('service://users/y');
    for (const seen of up.seen) {
      expect(seen.headers.traceparent).toBeUndefined();
      expect(seen.headers.tracestate).toBeUndefined();
      expect(seen.headers['x-request-id']).toBe('req-78');
      expect(seen.headers['x-smart-deadline']).toMatch(/^\d+$/);
    }
    expect(up.seen).toHaveLength(2);
  });

  it('fails at once, without a socket, when the deadline has passed; and cuts a slow call at its timeout', async () => {
    const slow = await upstream((_req, res) => setTimeout(() => json(res, 200, {}), 1_000));
    const late = client({
      resolver: staticResolver({ users: [slow.url] }),
      context: () => ({ deadline: Date.now() - 1 }),
    });
    expect((await failure(late.get('service://users/x')))?.code).toBe('SMART_CLIENT_DEADLINE_EXCEEDED');
    expect(slow.connections()).toBe(0);

    const c = client({ resolver: staticResolver({ users: [slow.url] }) });
    const started = Date.now();
    const err = await failure(c.get('service://users/x', { timeout: 150 }));
    expect(err?.code).toBe('SMART_CLIENT_DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('never fails a call before its deadline, also on reused connections (undici timers may fire early)', async () => {
    const up = await upstream((_req, res) => setTimeout(() => json(res, 200, { ok: true }), 600));
    const c = client({ resolver: staticResolver({ slowish: [up.url] }) });
    const early: number[] = [];
    // Four connections, each reused for six calls in a row: 600 ms answers, 900 ms timeouts.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 6; i++) {
          const started = performance.now();
          await c.get('service://slowish/x', { timeout: 900 }).catch(() => early.push(performance.now() - started));
        }
      }),
    );
    expect(early).toEqual([]);
  });

  it('fails with DEADLINE_EXCEEDED when the body of an answer stalls past the deadline', async () => {
    const stalls = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      // ...and the rest never comes.
    });
    const c = client({ resolver: staticResolver({ stalls: [stalls.url] }) });
    const started = Date.now();
    const err = await failure(c.get('service://stalls/x', { timeout: 300 }));
    expect(err?.code).toBe('SMART_CLIENT_DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('turns a problem+json answer into a RemoteError with the remote chain', async () => {
    const up = await upstream((_req, res) =>
      json(
        res,
        402,
        {
          type: 'about:blank',
          title: 'Payment Required',
          status: 402,
          detail: 'fib(90) costs 12, user ann has insufficient credit (3)',
          code: 'FIB_INSUFFICIENT_CREDIT',
          requestId: 'req-9',
          service: 'userstore',
          cause: { service: 'ledger', status: 409, code: 'LEDGER_LOCKED', detail: 'locked', requestId: 'req-9' },
        },
        'application/problem+json; charset=utf-8',
      ),
    );
    const c = client({ resolver: staticResolver({ userstore: [up.url] }) });
    const err = await failure(c.post('service://userstore/charge', { user: 'ann' }));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({
      code: 'SMART_CLIENT_REMOTE_ERROR',
      service: 'userstore',
      status: 402,
      remoteCode: 'FIB_INSUFFICIENT_CREDIT',
      requestId: 'req-9',
    });
    expect((err as RemoteError).toCause()).toMatchObject({
      service: 'userstore',
      cause: { service: 'ledger', code: 'LEDGER_LOCKED' },
    });
  });

  it('reports an unreachable upstream as SMART_CLIENT_UNAVAILABLE', async () => {
    const c = client({ resolver: staticResolver({ users: ['http://127.0.0.1:9'] }) });
    expect((await failure(c.get('service://users/x')))?.code).toBe('SMART_CLIENT_UNAVAILABLE');
  });

  it('runs many calls at once and waits for all', async () => {
    const up = await upstream((req, res) => json(res, 200, { path: req.url }));
    const c = client({ resolver: staticResolver({ a: [up.url] }) });
    const [one, two] = await c.all([() => c.get('service://a/1'), () => c.get('service://a/2')] as const);
    expect([one, two]).toEqual([{ path: '/1' }, { path: '/2' }]);
  });
});

describe('options', () => {
  it('are checked when the client is made, each mistake naming its option', () => {
    const bad: [ClientOptions, string][] = [
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ allowedHosts: 'localhost' as unknown as string[] }, 'allowedHosts'],
      [{ balancing: 'random' as 'p2c' }, 'balancing'],
      [{ connections: 1.5 }, 'connections'],
      [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ retry: { budget: { percent: -1 } } }, 'retry.budget.percent'],
      [{ ejection: { consecutiveFailures: 0 } }, 'ejection.consecutiveFailures'],
      [{ hedge: { percentile: 100 } }, 'hedge.percentile'],
      [{ hedge: { percentile: 95, maxExtraLoad: 0 } }, 'hedge.maxExtraLoad'],
      [{ hedge: {} }, 'hedge'],
      [{ resolver: {} as ServiceResolver }, 'resolver'],
    ];
    for (const [options, name] of bad) {
      expect(() => createClient(options)).toThrow(
        expect.objectContaining({ code: 'SMART_CLIENT_INVALID_OPTION', message: expect.stringContaining(name) }),
      );
    }
  });

  it("check a call's own hedge option before anything is sent", async () => {
    const up = await upstream();
    const c = client({ resolver: staticResolver({ users: [up.url] }) });
    expect((await failure(c.get('service://users/x', { hedge: { delayMs: -1 } })))?.code).toBe(
      'SMART_CLIENT_INVALID_OPTION',
    );
    expect(up.connections()).toBe(0);
  });
});
