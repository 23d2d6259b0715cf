import { memorySource } from 'smart-config';
import { describe, expect, it } from 'vitest';
import { build, redisUrl } from './helper.ts';

// Blocks the event loop, as a CPU-bound burst does.
function busy(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe('overload protection', () => {
  it('sheds load while the event loop is saturated: 503 + Retry-After at once, probes and metrics still answer', async () => {
    const app = await build({
      env: {
        SMART_PROTECTION__SHEDDING__ENABLED: 'true',
        SMART_PROTECTION__SHEDDING__MAX_EVENT_LOOP_DELAY_MS: '50',
        SMART_PROTECTION__SHEDDING__SAMPLE_INTERVAL_MS: '100',
      },
    });
    app.get('/work', async () => ({ ok: true }));
    await app.ready();
    expect((await app.inject('/work')).statusCode).toBe(200);
    // Stall the loop across a sample, then ask while the sample still says "saturated".
    await new Promise((resolve) => setTimeout(resolve, 120));
    for (let i = 0; i < 4; i++) {
      busy(150);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(app.isUnderPressure()).toBe(true);
    const started = performance.now();
    const shed = await app.inject('/work');
    expect(performance.now() - started).toBeLessThan(50);
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.json()).toMatchObject({ code: 'SMART_SERVICE_OVERLOADED' });
    expect((await app.inject('/health/live')).statusCode).toBe(200);
    expect((await app.inject('/metrics')).statusCode).toBe(200);
  });

  it('rate limits per route and caller, with limits changed live, counted in Redis', async () => {
    const live = memorySource('atlas');
    const app = await build({
      redis: true,
      sources: [live],
      env: {
        SMART_REDIS__URL: redisUrl(),
        SMART_PROTECTION__RATE_LIMIT__ENABLED: 'true',
        SMART_PROTECTION__RATE_LIMIT__MAX: '3',
        SMART_PROTECTION__RATE_LIMIT__TIME_WINDOW_MS: '60000',
      },
    });
    const caller = `caller-${Date.now()}`;
    app.get('/a', async () => ({ ok: true }));
    app.get('/b', async () => ({ ok: true }));
    const get = (url: string, who = caller) => app.inject({ url, headers: { 'x-smart-caller': who } });
    const statuses = async (url: string, n: number, who?: string) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get(url, who)).statusCode);
      return out;
    };
    expect(await statuses('/a', 4)).toEqual([200, 200, 200, 429]);
    const limited = await get('/a');
    expect(limited.headers['retry-after']).toEqual(expect.any(String));
    expect(limited.json()).toMatchObject({ code: 'SMART_SERVICE_RATE_LIMITED', status: 429 });
    // Another route and another caller have counts of their own.
    expect(await statuses('/b', 1)).toEqual([200]);
    expect(await statuses('/a', 1, `${caller}-other`)).toEqual([200]);
    // Probes are never limited.
    expect(await statuses('/health/live', 5)).toEqual([200, 200, 200, 200, 200]);
    // The counters live in Redis, shared by the instances.
    expect(await app.redis.keys('smart-rate-limit:*')).not.toHaveLength(0);

    // A live change (as from Atlas): a per-route limit, applied on the next request.
    live.set({ protection: { rateLimit: { routes: { '/b': { max: 1 } } } } });
    expect(await statuses('/b', 1)).toEqual([429]);
    live.set({ protection: { rateLimit: { enabled: false } } });
    expect(await statuses('/a', 2)).toEqual([200, 200]);
  });
});
