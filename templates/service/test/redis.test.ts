import { describe, expect, it } from 'vitest';
import { testApp } from './helper.ts';

// Redis at SMART_REDIS__URL (default redis://127.0.0.1:6379 in realm local).
describe('Redis', () => {
  it('counts hits per name', async () => {
    const app = await testApp({ SMART_REDIS__KEY_PREFIX: `test-${process.pid}-${Date.now()}:` });
    expect((await app.inject('/hello/ann')).json()).toMatchObject({ hits: 1 });
    expect((await app.inject('/hello/ann')).json()).toMatchObject({ hits: 2 });
    const ready = (await app.inject('/health/ready')).json();
    expect(ready.checks.redis).toMatchObject({ status: 'ok' });
  });
});
