import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { build } from './helper.ts';

describe('health', () => {
  it('answers liveness at once', async () => {
    const app = await build();
    const res = await app.inject('/health/live');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('runs every check and reports each status and latency; a failing non-critical check keeps 200', async () => {
    const app = await build();
    app.healthCheck('fast', () => true);
    app.healthCheck('slowish', () => sleep(30));
    app.healthCheck('optional', () => Promise.reject(new Error('cache cold')), { critical: false });
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(body.checks.fast).toEqual({ status: 'ok', critical: true, latencyMs: expect.any(Number) });
    expect(body.checks.slowish.latencyMs).toBeGreaterThanOrEqual(25);
    expect(body.checks.optional).toMatchObject({ status: 'fail', critical: false, error: 'cache cold' });
  });

  it('answers 503 when a critical check fails or times out', async () => {
    const app = await build();
    app.healthCheck('hangs', () => new Promise(() => {}), { timeoutMs: 50 });
    app.healthCheck('throws', () => {
      throw new Error('disk full');
    });
    const started = performance.now();
    const res = await app.inject('/health/ready');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'fail',
      checks: {
        hangs: { status: 'fail', error: 'timed out after 50 ms' },
        throws: { status: 'fail', error: 'disk full' },
      },
    });
  });

  it('answers 503 once shutdown has begun, while liveness stays 200', async () => {
    const app = await build({ env: { SMART_SHUTDOWN__DRAIN_DELAY_MS: '60000' } });
    // The drain delay keeps it serving: readiness says go away, liveness stays.
    void app.shutdown();
    expect(app.shuttingDown).toBe(true);
    expect((await app.inject('/health/ready')).json()).toMatchObject({ status: 'shutting-down' });
    expect((await app.inject('/health/ready')).statusCode).toBe(503);
    expect((await app.inject('/health/live')).statusCode).toBe(200);
  });

  it('refuses a check registered twice', async () => {
    const app = await build();
    app.healthCheck('db-like', () => true);
    expect(() => app.healthCheck('db-like', () => true)).toThrow(
      expect.objectContaining({ code: 'SMART_SERVICE_INVALID_OPTION' }),
    );
  });
});
