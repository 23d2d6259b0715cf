import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, freshDatabase, startAtlas } from './helper.ts';

describe('a fresh Atlas', () => {
  // The store numbers its first write 1, and an empty topic used to answer
  // index 1 too: a watcher that started before the very first write slept
  // through it until its wait ran out (`smart dev` on a new data folder).
  it('wakes a watcher on its very first write', async () => {
    const { base } = await startAtlas(await freshDatabase());
    const admin = { token: ADMIN_TOKEN };
    const empty = await call(base, 'GET', '/v1/services/orders/instances?realm=testing', admin);
    expect(empty.body).toEqual([]);
    setTimeout(
      () =>
        call(base, 'PUT', '/v1/services/orders/instances/first', {
          ...admin,
          body: { host: '127.0.0.1', port: 3000, realm: 'testing' },
        }),
      200,
    );
    const started = Date.now();
    const changed = await call(
      base,
      'GET',
      `/v1/services/orders/instances?realm=testing&index=${empty.index}&wait=10s`,
      admin,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(changed.body.map((i: { id: string }) => i.id)).toEqual(['first']);
    expect(Number(changed.index)).toBeGreaterThan(Number(empty.index));
  });
});
