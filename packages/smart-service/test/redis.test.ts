import { describe, expect, it, onTestFinished } from 'vitest';
import { build, eventually, redisUrl } from './helper.ts';
import { privateRedis } from './private-servers.ts';

describe('redis', () => {
  it('gives app.redis on the configured URL, with a passing readiness check', async () => {
    const app = await build({ env: { SMART_REDIS__URL: redisUrl(), SMART_REDIS__KEY_PREFIX: 'redis-test:' } });
    await app.redis.set('greeting', 'hello');
    expect(await app.redis.get('greeting')).toBe('hello');
    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.redis).toMatchObject({ status: 'ok', critical: true, latencyMs: expect.any(Number) });
  });

  it('answers 503 with Retry-After while Redis is down, logs the outage once each way, and recovers: no crash, no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    onTestFinished(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    const redis = privateRedis();
    const app = await build({ realm: 'testing', redis: true, env: { SMART_REDIS__URL: redis.url } });
    app.get('/counter', async () => ({ count: await app.redis.incr('counter') }));
    expect((await app.inject('/health/ready')).statusCode).toBe(200);
    expect((await app.inject('/counter')).json()).toEqual({ count: 1 });

    await redis.kill();
    await eventually(async () => (await app.inject('/health/ready')).statusCode === 503);
    const started = performance.now();
    const down = await app.inject('/health/ready');
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(down.json()).toMatchObject({ status: 'fail', checks: { redis: { status: 'fail', critical: true } } });
    for (let i = 0; i < 20; i++) {
      const failed = await app.inject('/counter');
      expect(failed.statusCode).toBe(503);
      expect(failed.headers['content-type']).toContain('application/problem+json');
      expect(failed.headers['retry-after']).toBe('1');
      expect(failed.json()).toMatchObject({
        code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE',
        dependency: 'redis',
        detail: 'redis is unavailable: retry shortly',
      });
    }

    await redis.restart();
    await eventually(async () => (await app.inject('/health/ready')).statusCode === 200);
    await eventually(async () => (await app.inject('/counter')).statusCode === 200);
    expect(unhandled).toEqual([]);
    const errors = app.logs.filter((line) => Number(line.level) >= 50);
    expect(errors.map((line) => line.msg)).toEqual(['redis unavailable']);
    expect(app.logs.filter((line) => line.msg === 'redis available again')).toHaveLength(1);
  });

  it('fails fast while Redis hangs: the first request meets the command timeout (503 within 500 ms); once the probe confirms it, each answers 503 in milliseconds, and the first PING that answers ends the outage', async () => {
    const redis = privateRedis();
    const app = await build({ realm: 'testing', redis: true, env: { SMART_REDIS__URL: redis.url } });
    app.get('/counter', async () => ({ count: await app.redis.incr('counter') }));
    expect((await app.inject('/counter')).statusCode).toBe(200);

    redis.hang();
    const started = performance.now();
    const hung = await app.inject('/counter');
    const took = performance.now() - started;
    expect(hung.statusCode).toBe(503);
    expect(hung.json()).toMatchObject({ code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE', dependency: 'redis' });
    expect(took).toBeLessThan(500);

    // The probe's own PING times out too: Redis is known down, and no request waits for the command timeout any more.
    await eventually(() => app.logs.some((line) => line.msg === 'redis down: failing fast until a probe succeeds'));
    const tookEach: number[] = [];
    for (let i = 0; i < 50; i++) {
      const began = performance.now();
      const refused = await app.inject('/counter');
      tookEach.push(performance.now() - began);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toMatchObject({ code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE', dependency: 'redis' });
    }
    expect(Math.max(...tookEach)).toBeLessThan(50);
    // Readiness (its own connection, its own PING) still tells the truth.
    expect((await app.inject('/health/ready')).statusCode).toBe(503);

    redis.resume();
    const resumed = performance.now();
    await eventually(async () => (await app.inject('/counter')).statusCode === 200);
    // The probe waits at most dependencies.probeMaxIntervalMs (2 s) between tries.
    expect(performance.now() - resumed).toBeLessThan(3_500);
    expect(app.logs.filter((line) => Number(line.level) >= 50).map((line) => line.msg)).toEqual(['redis unavailable']);
    const back = app.logs.filter((line) => line.msg === 'redis available again');
    expect(back).toHaveLength(1);
    expect(back[0]?.refused).toBeGreaterThanOrEqual(51);
  });

  it('with dependencies.failFast off, each request during a hang waits its own command timeout (the setting is honoured)', async () => {
    const redis = privateRedis();
    const app = await build({
      realm: 'testing',
      redis: true,
      env: {
        SMART_REDIS__URL: redis.url,
        SMART_DEPENDENCIES__FAIL_FAST: 'false',
        SMART_REDIS__COMMAND_TIMEOUT_MS: '150',
      },
    });
    app.get('/counter', async () => ({ count: await app.redis.incr('counter') }));
    expect((await app.inject('/counter')).statusCode).toBe(200);

    redis.hang();
    expect((await app.inject('/counter')).statusCode).toBe(503);
    const started = performance.now();
    const again = await app.inject('/counter');
    expect(again.statusCode).toBe(503);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    redis.resume();
  });

  it('refuses to start without a Redis URL outside local when the service uses Redis', async () => {
    await expect(build({ realm: 'production', redis: true })).rejects.toMatchObject({
      code: 'SMART_SERVICE_SETTING_MISSING',
      message: expect.stringContaining('SMART_REDIS__URL'),
    });
  });
});
