import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { build, eventually, redisUrl } from './helper.ts';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis of this test's own, so stopping it disturbs no other test file. */
async function privateRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await eventually(() => {
    try {
      return execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG';
    } catch {
      return false;
    }
  });
  return child;
}

describe('redis', () => {
  it('gives app.redis on the configured URL, with a passing readiness check', async () => {
    const app = await build({ env: { SMART_REDIS__URL: redisUrl(), SMART_REDIS__KEY_PREFIX: 'redis-test:' } });
    await app.redis.set('greeting', 'hello');
    expect(await app.redis.get('greeting')).toBe('hello');
    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.redis).toMatchObject({ status: 'ok', critical: true, latencyMs: expect.any(Number) });
  });

  it('fails fast while Redis is down: readiness 503, then 200 when it returns, with no crash or unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    afterAll(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    const port = await freePort();
    let redis = await privateRedis(port);
    const app = await build({ realm: 'testing', redis: true, env: { SMART_REDIS__URL: `redis://127.0.0.1:${port}` } });
    app.get('/counter', async () => ({ count: await app.redis.incr('counter') }));
    expect((await app.inject('/health/ready')).statusCode).toBe(200);
    expect((await app.inject('/counter')).json()).toEqual({ count: 1 });

    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    await new Promise((resolve) => redis.once('exit', resolve));

    await eventually(async () => (await app.inject('/health/ready')).statusCode === 503);
    const started = performance.now();
    const down = await app.inject('/health/ready');
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(down.json()).toMatchObject({ status: 'fail', checks: { redis: { status: 'fail', critical: true } } });
    const failed = await app.inject('/counter');
    expect(failed.statusCode).toBe(500);
    expect(failed.headers['content-type']).toContain('application/problem+json');

    redis = await privateRedis(port);
    afterAll(() => {
      redis.kill();
    });
    await eventually(async () => (await app.inject('/health/ready')).statusCode === 200);
    expect((await app.inject('/counter')).statusCode).toBe(200);
    expect(unhandled).toEqual([]);
    expect(app.logs.some((line) => line.msg === 'redis unavailable')).toBe(true);
    expect(app.logs.some((line) => line.msg === 'redis available again')).toBe(true);
  });

  it('refuses to start without a Redis URL outside local when the service uses Redis', async () => {
    await expect(build({ realm: 'production', redis: true })).rejects.toMatchObject({
      code: 'SMART_SERVICE_SETTING_MISSING',
      message: expect.stringContaining('SMART_REDIS__URL'),
    });
  });
});
