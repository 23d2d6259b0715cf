import { describe, expect, it } from 'vitest';
import { codes, staticResolver } from '../src/index.ts';
import { client, json, upstream } from './helper.ts';

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('circuit breaker (through the client, real upstreams)', () => {
  it('every upstream failing: opens within its window, then calls fail fast without a request (amplification <= 1.2x)', async () => {
    const a = await upstream((_req, res) => json(res, 503, {}));
    const b = await upstream((_req, res) => json(res, 503, {}));
    const transitions: string[] = [];
    const c = client({
      resolver: staticResolver({ search: [a.url, b.url, 'http://127.0.0.1:9'] }),
      retry: { baseMs: 1, capMs: 2 },
      events: { onCircuitState: (target, state, from) => transitions.push(`${target} ${from}->${state}`) },
    });
    const calls = 300;
    const codes_: string[] = [];
    const fast: number[] = [];
    for (let i = 0; i < calls; i++) {
      const started = performance.now();
      const code = await codeOf(c.get('service://search/q'));
      if (code === codes.circuitOpen) fast.push(performance.now() - started);
      codes_.push(code);
    }
    const firstOpen = codes_.indexOf(codes.circuitOpen);
    expect(firstOpen).toBeGreaterThan(0);
    expect(firstOpen).toBeLessThanOrEqual(20); // minimumNumberOfCalls: the window's judgement
    expect(codes_.slice(firstOpen).every((code) => code === codes.circuitOpen)).toBe(true);
    // Requests that reached the two listening upstreams (the closed port only refused connections).
    expect((a.seen.length + b.seen.length) / calls).toBeLessThanOrEqual(1.2);
    expect(Math.max(...fast)).toBeLessThan(50); // precise figures: circuit-breaker.timing.test.ts
    expect(transitions).toEqual(['search closed->open']); // reported once, not per refused call
  });

  it('a hanging upstream: once the circuit opens, calls fail fast instead of waiting out their timeout', async () => {
    const hanging = await upstream(() => {}); // never answers
    const c = client({ resolver: staticResolver({ slow: [hanging.url] }), timeoutMs: 150 });
    const first = await Promise.all(Array.from({ length: 25 }, () => codeOf(c.get('service://slow/x'))));
    expect(new Set(first)).toEqual(new Set([codes.deadline]));
    const started = performance.now();
    expect(await codeOf(c.get('service://slow/x'))).toBe(codes.circuitOpen);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('a service whose calls succeed through retries keeps its circuit closed: its bad instances are ejected instead', async () => {
    const bad1 = await upstream((_req, res) => json(res, 503, {}));
    const bad2 = await upstream((_req, res) => json(res, 502, {}));
    const good = await upstream((_req, res) => json(res, 200, { ok: true }));
    const log: string[] = [];
    const c = client({
      resolver: staticResolver({ users: [bad1.url, bad2.url, good.url] }),
      retry: { baseMs: 1, capMs: 2 },
      ejection: { consecutiveFailures: 3 },
      events: {
        onCircuitState: (_target, state) => log.push(`circuit ${state}`),
        onEject: (_target, origin) => log.push(`eject ${origin}`),
      },
    });
    for (let i = 0; i < 60; i++) expect(await c.get('service://users/x')).toEqual({ ok: true });
    expect(log.filter((line) => line.startsWith('circuit'))).toEqual([]);
    expect(log.filter((line) => line.startsWith('eject')).sort()).toEqual(
      [`eject ${bad1.url}`, `eject ${bad2.url}`].sort(),
    );
  });

  it('recovers: after the wait, probe calls reach the upstream again and their success closes the circuit', async () => {
    let healthy = false;
    const up = await upstream((_req, res) => (healthy ? json(res, 200, { ok: true }) : json(res, 503, {})));
    const transitions: string[] = [];
    const c = client({
      resolver: staticResolver({ api: [up.url] }),
      retry: { maxAttempts: 1 },
      circuitBreaker: {
        minimumNumberOfCalls: 5,
        waitDurationInOpenStateMs: 200,
        permittedNumberOfCallsInHalfOpenState: 2,
      },
      events: { onCircuitState: (_target, state, from) => transitions.push(`${from}->${state}`) },
    });
    for (let i = 0; i < 5; i++) await codeOf(c.get('service://api/x'));
    expect(await codeOf(c.get('service://api/x'))).toBe(codes.circuitOpen);
    const seen = up.seen.length;
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (let i = 0; i < 5; i++) expect(await c.get('service://api/x')).toEqual({ ok: true });
    expect(up.seen.length).toBe(seen + 5);
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('an open circuit’s error is a 503 with a Retry-After hint, and is never retried', async () => {
    const up = await upstream((_req, res) => json(res, 500, {}));
    let retries = 0;
    const c = client({
      resolver: staticResolver({ api: [up.url] }),
      circuitBreaker: { minimumNumberOfCalls: 2, waitDurationInOpenStateMs: 30_000 },
      events: { onRetry: () => retries++ },
    });
    await codeOf(c.get('service://api/x'));
    await codeOf(c.get('service://api/x'));
    const err = await c.get('service://api/x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: codes.circuitOpen, statusCode: 503, headers: { 'retry-after': '30' } });
    expect(retries).toBe(0);
    expect(up.seen).toHaveLength(2);
  });

  it('can be switched off, and tuned per target', async () => {
    const up = await upstream((_req, res) => json(res, 503, {}));
    const off = client({
      resolver: staticResolver({ api: [up.url] }),
      circuitBreaker: false,
      retry: { maxAttempts: 1 },
    });
    for (let i = 0; i < 30; i++) expect(await codeOf(off.get('service://api/x'))).toBe(codes.http);
    const tuned = client({
      resolver: staticResolver({ api: [up.url], other: [up.url] }),
      retry: { maxAttempts: 1 },
      circuitBreaker: { targets: { api: { minimumNumberOfCalls: 3 } } },
    });
    for (let i = 0; i < 3; i++) await codeOf(tuned.get('service://api/x'));
    expect(await codeOf(tuned.get('service://api/x'))).toBe(codes.circuitOpen);
    for (let i = 0; i < 5; i++) expect(await codeOf(tuned.get('service://other/x'))).toBe(codes.http);
  });
});
