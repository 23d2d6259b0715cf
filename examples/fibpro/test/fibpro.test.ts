// FibPro end to end, under the machinery `smart dev` uses: an embedded Atlas
// and each service as its own process in realm local, found by service://.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DevSession, startDev } from 'smart-dev';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../fibfrontend/src/fib.ts';

const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'fibpro-'));
let session: DevSession;
const url = (service: string) => session.services.get(service)?.url as string;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ALICE = basic('alice', 'wonderland');
const BOB = basic('bob', 'builder');

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url('fibfrontend')}${path}`, { headers });
const creditOf = async (user: string) =>
  ((await (await fetch(`${url('userstore')}/users/${user}`)).json()) as { credit: number }).credit;

beforeAll(async () => {
  session = await startDev({
    root,
    watch: false,
    output: false,
    atlasDataDir: join(scratch, 'atlas'),
    // A fresh embedded database for userstore (the demo users, full credit), and
    // free ports (the manifest gives fibfrontend 8080 for the README's demo).
    env: { SMART_DB__EMBEDDED_DIR: join(scratch, 'userstore-db'), SMART_HTTP__PORT: '0' },
  });
  await session.ready({ timeoutMs: 80_000 });
});

afterAll(async () => {
  await session?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('FibPro', () => {
  it('answers fib(n) exactly and charges its cost once', async () => {
    const before = await creditOf('alice');
    const res = await get('/10', { authorization: ALICE });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n: 10, fib: '55', cost: 4, credit: before - 4 });
    expect(await creditOf('alice')).toBe(before - 4);

    const big = (await (await get('/100', { authorization: ALICE })).json()) as { fib: string; cost: number };
    expect(big.fib).toBe('354224848179261915075');
    const zero = await (await get('/0', { authorization: ALICE })).json();
    expect(zero).toMatchObject({ fib: '0', cost: 1 });
    expect(fib(1000).toString()).toHaveLength(209);
    expect(await creditOf('alice')).toBe(before - 4 - big.cost - 1);
  });

  it.each(['4.5', 'favicon.ico', '-3', '10001'])('answers %s with a 400 problem and charges nothing', async (n) => {
    const before = await creditOf('alice');
    const res = await get(`/${n}`, { authorization: ALICE });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 400, code: 'FIBPRO_BAD_N', service: 'fibfrontend' });
    expect(await creditOf('alice')).toBe(before);
  });

  it('asks for Basic auth, and refuses a wrong password', async () => {
    const none = await get('/5');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    const wrong = await get('/5', { authorization: basic('alice', 'nope') });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'FIBPRO_BAD_CREDENTIALS' });
  });

  it('answers 402 when the credit does not cover the cost, down to zero credit', async () => {
    const res = await get('/10', { authorization: BOB }); // costs 4, bob has 3
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({
      status: 402,
      code: 'FIBPRO_INSUFFICIENT_CREDIT',
      detail: 'fib(10) costs 4, user bob has insufficient credit (3)',
    });
    for (let i = 0; i < 3; i++) expect((await get('/0', { authorization: BOB })).status).toBe(200); // 1 each
    expect(await creditOf('bob')).toBe(0);
    const broke = await get('/0', { authorization: BOB });
    expect(broke.status).toBe(402);
    expect(((await broke.json()) as { detail: string }).detail).toBe(
      'fib(0) costs 1, user bob has insufficient credit (0)',
    );
  });

  it('never drives credit below zero under 50 concurrent requests', async () => {
    const before = await creditOf('alice');
    const cost = 10; // fib(1000): 1 + floor(log2(1001))
    const answers = await Promise.all(Array.from({ length: 50 }, () => get('/1000', { authorization: ALICE })));
    const statuses = answers.map((r) => r.status);
    const served = statuses.filter((s) => s === 200).length;
    expect(statuses.every((s) => s === 200 || s === 402)).toBe(true);
    expect(served).toBe(Math.floor(before / cost));
    expect(await creditOf('alice')).toBe(before - served * cost);
    expect(await creditOf('alice')).toBeGreaterThanOrEqual(0);
  });

  it('carries one request id through the logs of all three services', async () => {
    const res = await get('/7', { authorization: basic('alice', 'wonderland'), 'x-request-id': 'fibpro-trace-1' });
    expect(res.headers.get('x-request-id')).toBe('fibpro-trace-1');
    await new Promise((done) => setTimeout(done, 300)); // lines arrive through pipes
    for (const service of ['fibfrontend', 'userstore', 'pricing']) {
      const lines = session.logs(service).filter((line) => line.json?.requestId === 'fibpro-trace-1');
      expect(lines.length, service).toBeGreaterThan(0);
    }
  });

  it('turns a failure inside userstore into a RemoteError chain for the caller', async () => {
    const res = await get('/5', { authorization: basic('carol', 'password'), 'x-request-id': 'fibpro-broken-1' });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      service: 'fibfrontend',
      code: 'SMART_CLIENT_REMOTE_ERROR',
      requestId: 'fibpro-broken-1',
      cause: {
        service: 'userstore',
        status: 500,
        code: 'USERSTORE_UNSUPPORTED_HASH',
        detail: 'unsupported password hash scheme "md5": the record needs migrating',
        requestId: 'fibpro-broken-1',
      },
    });
    // userstore logged the failure, with its stack, under the same request id.
    await expect
      .poll(() => session.logs('userstore').find((l) => l.json?.requestId === 'fibpro-broken-1' && l.json.level === 50))
      .toMatchObject({ json: { msg: 'request failed', err: { code: 'USERSTORE_UNSUPPORTED_HASH' } } });
  });

  it('shows requests, errors and latency on each service’s /metrics', async () => {
    for (const service of ['fibfrontend', 'userstore', 'pricing']) {
      const text = await (await fetch(`${url(service)}/metrics`)).text();
      expect(text, service).toMatch(/http_request_duration_seconds_count\{[^}]*status="200"[^}]*\} [1-9]/);
      expect(text, service).toContain('http_request_duration_seconds_bucket');
    }
    const userstore = await (await fetch(`${url('userstore')}/metrics`)).text();
    expect(userstore).toMatch(/http_request_duration_seconds_count\{[^}]*status="500"[^}]*\} [1-9]/);
    const frontend = await (await fetch(`${url('fibfrontend')}/metrics`)).text();
    expect(frontend).toMatch(/status="402"/);
    expect(frontend).toMatch(/client_call_duration_seconds_count\{[^}]*target="userstore"/);
  });
});
