import { describe, expect, it, onTestFinished } from 'vitest';
import { codes, createClient, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

// Timing assertions: may fail on a loaded machine; rerun alone before chasing.
describe('circuit breaker timing', () => {
  it('fails fast in under 5 ms while open (every call of 200)', async () => {
    const up = await upstream((_req, res) => json(res, 503, {}));
    const c = createClient({
      resolver: staticResolver({ api: [up.url] }),
      retry: { maxAttempts: 1 },
      circuitBreaker: { minimumNumberOfCalls: 5, waitDurationInOpenStateMs: 60_000 },
    });
    onTestFinished(() => c.close());
    for (let i = 0; i < 5; i++) await c.get('service://api/x').catch(() => {});
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      const err = await c.get('service://api/x').catch((e: { code: string }) => e);
      times.push(performance.now() - started);
      expect((err as { code: string }).code).toBe(codes.circuitOpen);
    }
    times.sort((x, y) => x - y);
    expect(times[100]).toBeLessThan(1);
    expect(times.at(-1)).toBeLessThan(5);
  });
});
