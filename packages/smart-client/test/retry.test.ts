import { describe, expect, it } from 'vitest';
import { staticResolver } from '../src/index.ts';
import { client, json, upstream } from './helper.ts';

describe('retries', () => {
  it('retry a refused connection or a 503 on another instance', async () => {
    const failing = await upstream((_req, res) => json(res, 503, { busy: true }));
    const good = await upstream((_req, res) => json(res, 200, { ok: true }));
    const refused = 'http://127.0.0.1:9';
    const c = client({ resolver: staticResolver({ users: [failing.url, refused, good.url] }) });
    const answers = await Promise.all(Array.from({ length: 30 }, () => c.get('service://users/x')));
    expect(answers.every((a) => (a as { ok: boolean }).ok)).toBe(true);
    expect(failing.seen.length).toBeGreaterThan(0); // the bad instance was tried, and the call still succeeded
    expect(good.seen.length).toBe(30); // every call ended on the good one, exactly once
  });

  it('never retry a POST without an idempotency-key; retry one with a key', async () => {
    const failing = await upstream((_req, res) => json(res, 503, { busy: true }));
    const c = client({ resolver: staticResolver({ orders: [failing.url] }) });
    const plain = await c.fetch('service://orders/charge', { method: 'POST', body: '{}' });
    expect(plain.status).toBe(503);
    await plain.text();
    expect(failing.seen.length).toBe(1);

    const keyed = await c.fetch('service://orders/charge', {
      method: 'POST',
      body: '{}',
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(keyed.status).toBe(503);
    await keyed.text();
    expect(failing.seen.length).toBe(1 + 3);
  });

  it('cap total upstream requests at 1.2x plus the floor when every upstream fails (retry budget)', async () => {
    const a = await upstream((_req, res) => json(res, 503, {}));
    const b = await upstream((_req, res) => json(res, 503, {}));
    const c = client({
      resolver: staticResolver({ search: [a.url, b.url] }),
      retry: { baseMs: 1, capMs: 2, budget: { percent: 0.2, minPerSecond: 1, ttlSeconds: 10 } },
      circuitBreaker: false, // the budget alone (with the breaker, the calls after the 20th fail fast: see circuit-breaker.test.ts)
    });
    const calls = 200;
    for (let i = 0; i < calls; i++) await (await c.fetch('service://search/q')).text();
    const total = a.seen.length + b.seen.length;
    const floor = 1 * 10;
    expect(total).toBeGreaterThan(calls); // retries did happen
    expect(total).toBeLessThanOrEqual(1.2 * calls + floor); // without the budget: 3 x 200 = 600
  });

  it('honour Retry-After, within the deadline', async () => {
    let first = true;
    const up = await upstream((_req, res) => {
      if (first) {
        first = false;
        res.writeHead(503, { 'retry-after': '1' }).end();
      } else json(res, 200, { ok: true });
    });
    const c = client({ resolver: staticResolver({ slow: [up.url] }) });
    const started = Date.now();
    expect(await c.get('service://slow/x')).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);

    // With a deadline shorter than Retry-After, the 503 stands instead of a doomed wait.
    first = true;
    const res = await c.fetch('service://slow/x', { timeout: 300 });
    expect(res.status).toBe(503);
  });
});
