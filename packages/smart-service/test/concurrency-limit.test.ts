import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build, eventually, listen } from './helper.ts';

// Shedding on, with the adaptive limits' settings for this test.
const shedding = (settings: Record<string, string>) => ({
  SMART_PROTECTION__SHEDDING__ENABLED: 'true',
  SMART_PROTECTION__SHEDDING__WINDOW_MS: '50',
  ...Object.fromEntries(Object.entries(settings).map(([key, value]) => [`SMART_PROTECTION__SHEDDING__${key}`, value])),
});

// Blocks the event loop, as a CPU-bound handler does.
function busy(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

// `clients` loops, each asking one request after another (1 ms apart, as
// callers over a network are) until `until()` says stop.
async function keepBusy(ask: () => Promise<unknown>, clients: number, until: () => boolean) {
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!until()) {
        await ask();
        await sleep(1);
      }
    }),
  );
}

describe('adaptive concurrency limit', () => {
  it('grows while latency stays near the unloaded latency, and shrinks when latency rises', async () => {
    const app = await build({ env: shedding({ INITIAL_LIMIT: '10', MIN_LIMIT: '2', MAX_LIMIT: '100' }) });
    let delayMs = 20;
    app.get('/io', async () => {
      await sleep(delayMs);
      return { ok: true };
    });
    await app.ready();
    const limits = app.concurrencyLimit;
    if (!limits) throw new Error('shedding is on: the limits exist');
    expect(limits.limit).toBe(10);

    // 8 callers keep more than half of the limit in use while the service answers in ~20 ms.
    const grown = Date.now() + 1_500;
    await keepBusy(
      () => app.inject('/io'),
      8,
      () => Date.now() > grown,
    );
    const afterFast = limits.limit;
    expect(afterFast).toBeGreaterThan(10);
    expect(limits.minRttMs).toBeGreaterThanOrEqual(19);
    expect(limits.minRttMs).toBeLessThan(40);

    // The service becomes three times slower (a slow dependency): latency is
    // over twice the unloaded latency, so the limit comes down.
    delayMs = 70;
    const slowed = Date.now() + 1_500;
    await keepBusy(
      () => app.inject('/io'),
      8,
      () => Date.now() > slowed,
    );
    expect(limits.limit).toBeLessThan(afterFast);
    expect(limits.inFlight).toBe(0);
  });

  it('sheds the requests over the limit at once (503 SMART_SERVICE_OVERLOADED + Retry-After), and never probes or metrics', async () => {
    const app = await build({ env: shedding({ INITIAL_LIMIT: '3', MIN_LIMIT: '3', MAX_LIMIT: '3' }) });
    app.get('/slow', async () => {
      await sleep(300);
      return { ok: true };
    });
    await app.ready();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await app.inject('/slow');
        return { res, ms: performance.now() - started };
      }),
    );
    const shed = answers.filter(({ res }) => res.statusCode === 503);
    expect(answers.filter(({ res }) => res.statusCode === 200)).toHaveLength(3);
    expect(shed).toHaveLength(3);
    for (const { res, ms } of shed) {
      expect(ms).toBeLessThan(100);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({
        code: 'SMART_SERVICE_OVERLOADED',
        status: 503,
        detail: expect.stringContaining('limit 3'),
      });
    }

    // With the limit full, the probes and metrics still answer.
    const holding = Promise.all(Array.from({ length: 3 }, () => app.inject('/slow')));
    await eventually(() => app.concurrencyLimit?.inFlight === 3);
    expect((await app.inject('/slow')).statusCode).toBe(503);
    for (const url of ['/health/live', '/health/ready', '/metrics'])
      expect((await app.inject(url)).statusCode).toBe(200);
    await holding;
    expect(app.concurrencyLimit?.inFlight).toBe(0);
    // The limit and the requests shed are metrics.
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/^http_concurrency_limit\{service="[^"]+"\} 3$/m);
    expect(metrics).toMatch(/^http_requests_shed_total\{service="[^"]+"\} 4$/m);
  });

  it('sheds requests that waited in the event loop longer than the queue-wait limit (a CPU-bound queue)', async () => {
    // Each request holds the loop 10 ms: 8 asked at once on 8 connections
    // queue behind each other in the loop, and in flight there is only ever one.
    const app = await build({ env: shedding({ MAX_QUEUE_DELAY_MS: '25' }) });
    app.get('/fast', async () => ({ ok: true }));
    app.get('/cpu', async () => {
      busy(10);
      return { ok: true };
    });
    const base = await listen(app);
    const pool = new Pool(base, { connections: 8 });
    onTestFinished(() => pool.close());
    const ask = async (path: string) => {
      const res = await pool.request({ path, method: 'GET' });
      return { status: res.statusCode, body: (await res.body.json()) as { code?: string; detail?: string } };
    };
    await Promise.all(Array.from({ length: 8 }, () => ask('/fast')));
    await sleep(20);
    const answers = await Promise.all(Array.from({ length: 8 }, () => ask('/cpu')));
    const shed = answers.filter((answer) => answer.status === 503);
    // The last ones waited 30 ms or more (three ahead of them): shed; the
    // first was served (the test's client shares the loop and adds its own
    // time, so how many exactly varies).
    expect(shed.length).toBeGreaterThan(0);
    expect(answers[0]?.status).toBe(200);
    expect(shed[0]?.body).toMatchObject({
      code: 'SMART_SERVICE_OVERLOADED',
      detail: expect.stringMatching(/queued longer than [\d.]+ ms/),
    });
    expect(app.concurrencyLimit?.inFlight).toBe(0);
    // One at a time (a caller after another, the loop free in between), none waits: all are served.
    for (let i = 0; i < 4; i++) {
      await sleep(5);
      expect((await ask('/cpu')).status).toBe(200);
    }
  });

  it('gives back the slot of a request whose client hung up', async () => {
    const app = await build({ env: shedding({ INITIAL_LIMIT: '2', MIN_LIMIT: '2', MAX_LIMIT: '2' }) });
    app.get('/slow', async () => {
      await sleep(200);
      return { ok: true };
    });
    const base = await listen(app);
    const controller = new AbortController();
    const abandoned = request(`${base}/slow`, { signal: controller.signal }).catch(() => 'aborted');
    await eventually(() => app.concurrencyLimit?.inFlight === 1);
    controller.abort();
    expect(await abandoned).toBe('aborted');
    await eventually(() => app.concurrencyLimit?.inFlight === 0);
    // Both slots are free again.
    const statuses = await Promise.all(
      Array.from({ length: 2 }, async () => (await request(`${base}/slow`)).statusCode),
    );
    expect(statuses).toEqual([200, 200]);
  });
});
