import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, freshDatabase, startAtlas } from './helper.ts';

const admin = { token: ADMIN_TOKEN };

describe('an instance that expires while no Atlas runs', () => {
  it('wakes its watchers once an Atlas starts again', async () => {
    const store = await freshDatabase();
    const first = await startAtlas(store);
    const registered = await call(first.base, 'PUT', '/v1/services/lapse/instances/l-1', {
      ...admin,
      body: { host: '127.0.0.1', port: 7200, realm: 'testing', ttlSeconds: 2 },
    });
    expect(registered.status).toBe(200);
    const before = await call(first.base, 'GET', '/v1/services/lapse/instances?realm=testing', admin);
    expect(before.body).toHaveLength(1);
    await first.atlas.close();

    await sleep(3_500); // past the TTL, with no Atlas to see it go
    const second = await startAtlas(store);
    const started = Date.now();
    const after = await call(
      second.base,
      'GET',
      `/v1/services/lapse/instances?realm=testing&index=${before.index}&wait=5s`,
      admin,
    );
    expect(after.body).toEqual([]);
    expect(Number(after.index)).toBeGreaterThan(Number(before.index));
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
