import { beforeAll, describe, expect, it } from 'vitest';
import { parseWait } from '../src/index.ts';
import { ADMIN_TOKEN, call, freshDatabase, startAtlas } from './helper.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});
const admin = { token: ADMIN_TOKEN };
const setKey = (base: string, key: string, value: unknown) =>
  call(base, 'PUT', `/v1/config/billing/testing/${key}`, { ...admin, body: { value } });

describe('blocking queries', () => {
  it('parse wait like Consul', () => {
    expect([parseWait('30s'), parseWait('500ms'), parseWait('2m'), parseWait('5'), parseWait('x')]).toEqual([
      30_000,
      500,
      120_000,
      5_000,
      undefined,
    ]);
  });

  it('answer at once when the index has moved past the one asked for', async () => {
    const { base } = await startAtlas(url);
    await setKey(base, 'a', 1);
    const read = await call(base, 'GET', '/v1/config/billing/testing', admin);
    const started = Date.now();
    const again = await call(base, 'GET', `/v1/config/billing/testing?index=${Number(read.index) - 1}&wait=10s`, admin);
    expect(Date.now() - started).toBeLessThan(500);
    expect(again.body.values).toEqual({ a: 1 });
  });

  it('answer at once when Atlas begins to shut down, so a shutdown never waits out a watch', async () => {
    const { atlas, base } = await startAtlas(url);
    const read = await call(base, 'GET', '/v1/config/billing/testing', admin);
    const started = Date.now();
    let answeredAfter = 0;
    const watching = call(base, 'GET', `/v1/config/billing/testing?index=${read.index}&wait=30s`, admin).then(
      (answer) => {
        answeredAfter = Date.now() - started;
        return answer;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = atlas.shutdown();
    const answer = await watching;
    expect(answer.status).toBe(200);
    expect(Number(answer.index)).toBe(Number(read.index));
    // At the first shutdown step, before the drain delay: not after the 30 s wait.
    expect(answeredAfter).toBeLessThan(3_000);
    await closed;
  });

  it('wait for a change, then answer with the new data and a higher index', async () => {
    const { base } = await startAtlas(url);
    const read = await call(base, 'GET', '/v1/config/billing/testing', admin);
    setTimeout(() => setKey(base, 'b', 'new'), 300);
    const started = Date.now();
    const changed = await call(base, 'GET', `/v1/config/billing/testing?index=${read.index}&wait=10s`, admin);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2_000);
    expect(changed.body.values.b).toBe('new');
    expect(Number(changed.index)).toBeGreaterThan(Number(read.index));
  });

  it('wake on a _global change too, but not on another service’s', async () => {
    const { base } = await startAtlas(url);
    const read = await call(base, 'GET', '/v1/config/billing/testing', admin);
    setTimeout(() => call(base, 'PUT', '/v1/config/other/testing/x', { ...admin, body: { value: 1 } }), 100);
    setTimeout(() => call(base, 'PUT', '/v1/config/_global/testing/region', { ...admin, body: { value: 'eu' } }), 500);
    const started = Date.now();
    const changed = await call(base, 'GET', `/v1/config/billing/testing?index=${read.index}&wait=10s`, admin);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(changed.body.entries).toContainEqual({ key: 'region', value: 'eu', secret: false, source: '_global' });
  });

  it('return unchanged when wait ends, and cap wait at atlas.maxWaitMs', async () => {
    const { base } = await startAtlas(url, { extraEnv: { SMART_ATLAS__MAX_WAIT_MS: '400' } });
    const read = await call(base, 'GET', '/v1/services/billing/instances?realm=testing', admin);
    const started = Date.now();
    const same = await call(
      base,
      'GET',
      `/v1/services/billing/instances?realm=testing&index=${read.index}&wait=10m`,
      admin,
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_500); // 400 ms plus at most 1/16 jitter, not 10 minutes
    expect(same.index).toBe(read.index);
  });
});
