import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createSmartService, currentApp, currentRequest } from '../src/index.ts';
import { build, captureLogs } from './helper.ts';

// Deep inside "business code": no app or request passed in.
async function whoAmI() {
  await sleep(5);
  return { service: currentApp().serviceInfo.name, requestId: currentRequest().id };
}

describe('currentApp() and currentRequest()', () => {
  it('work in handlers, nested async functions, promises and timers started from them', async () => {
    const app = await build({ name: 'context-a' });
    app.get('/who', async () => {
      const direct = { service: currentApp().serviceInfo.name, requestId: currentRequest().id };
      const nested = await whoAmI();
      const fromTimer = await new Promise((resolve) => setTimeout(() => resolve(whoAmI()), 10));
      const fromPromises = await Promise.all([1, 2].map(async () => (await whoAmI()).requestId));
      const fromImmediate = await new Promise((resolve) => setImmediate(() => resolve(currentRequest().id)));
      return { direct, nested, fromTimer, fromPromises, fromImmediate };
    });

    const res = await app.inject({ url: '/who', headers: { 'x-request-id': 'req-ctx-1' } });
    const expected = { service: 'context-a', requestId: 'req-ctx-1' };
    expect(res.json()).toEqual({
      direct: expected,
      nested: expected,
      fromTimer: expected,
      fromPromises: ['req-ctx-1', 'req-ctx-1'],
      fromImmediate: 'req-ctx-1',
    });
  });

  it('keep concurrent requests apart', async () => {
    const app = await build({ name: 'context-b' });
    app.get('/slow/:n', async (request) => {
      await sleep(20 - Number((request.params as { n: string }).n) * 5);
      return (await whoAmI()).requestId;
    });
    const ids = ['r-0', 'r-1', 'r-2', 'r-3'];
    const bodies = await Promise.all(
      ids.map((id, n) => app.inject({ url: `/slow/${n}`, headers: { 'x-request-id': id } }).then((res) => res.body)),
    );
    expect(bodies).toEqual(ids);
  });

  it('in hooks, see the request too', async () => {
    const app = await build({ name: 'context-c' });
    let seen: string | undefined;
    app.addHook('preHandler', async () => {
      seen = currentRequest().id;
    });
    app.get('/', async () => 'ok');
    await app.inject({ url: '/', headers: { 'x-request-id': 'hooked' } });
    expect(seen).toBe('hooked');
  });

  it('outside a request, currentApp() returns the only app, and says why it cannot when there are several', async () => {
    const first = await build({ name: 'context-d' });
    expect(currentApp()).toBe(first);
    expect(() => currentRequest()).toThrow(expect.objectContaining({ code: 'SMART_SERVICE_NO_REQUEST' }));

    const second = await createSmartService({ name: 'context-e', env: {}, logDestination: captureLogs().stream });
    try {
      expect(() => currentApp()).toThrow(expect.objectContaining({ code: 'SMART_SERVICE_NO_APP' }));
      expect(() => currentApp()).toThrow(/2 smart services are alive/);
    } finally {
      await second.close();
    }
    expect(currentApp()).toBe(first);
    await first.close();
    expect(() => currentApp()).toThrow(/no smart service/);
  });
});
