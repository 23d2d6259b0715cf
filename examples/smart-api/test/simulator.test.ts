import { afterEach, describe, expect, it } from 'vitest';
import { build } from '../simulator/src/app.ts';

const apps: Awaited<ReturnType<typeof build>>[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const simulator = async (env: Record<string, string>) => {
  const app = await build({ realm: 'local', env: { SMART_LOG__LEVEL: 'warn', ...env } });
  apps.push(app);
  return app;
};

describe('the simulator', () => {
  it('fails as often as its config says, with a problem+json 500', async () => {
    const app = await simulator({ SMART_SIMULATOR__FAIL_PERCENT: '100', SMART_SIMULATOR__SLOW_PERCENT: '0' });
    const res = await app.inject('/api/work');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'SIMULATOR_FAILED', service: 'simulator' });
  });

  it('answers slowly as often as its config says, within the configured latencies', async () => {
    const slow = await simulator({
      SMART_SIMULATOR__FAIL_PERCENT: '0',
      SMART_SIMULATOR__SLOW_PERCENT: '100',
      SMART_SIMULATOR__SLOW_MS: '[50,60]',
    });
    const body = (await slow.inject('/api/work')).json();
    expect(body).toMatchObject({ slow: true });
    expect(body.time).toBeGreaterThanOrEqual(50);
    expect(body.time).toBeLessThanOrEqual(60);
    const fast = await simulator({ SMART_SIMULATOR__FAIL_PERCENT: '0', SMART_SIMULATOR__SLOW_PERCENT: '0' });
    expect((await fast.inject('/api/work')).json()).toMatchObject({ slow: false });
  });

  it('refuses a config outside its bounds, naming the key', async () => {
    await expect(simulator({ SMART_SIMULATOR__SLOW_PERCENT: '130' })).rejects.toThrow(/simulator\.slowPercent/);
  });
});
