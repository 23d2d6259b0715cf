import { memorySource } from 'smart-config';
import { describe, expect, it } from 'vitest';
import { build } from './helper.ts';

// The rate limiter's library is loaded at the first enable (issue 16): a live
// change can turn rate limits on in a service that started without them.
describe('rate limits turned on live', () => {
  it('limit a service that started with them off, from the requests that arrive as they load', async () => {
    const live = memorySource('atlas');
    const app = await build({ sources: [live], env: { SMART_PROTECTION__RATE_LIMIT__MAX: '2' } });
    app.get('/a', async () => ({ ok: true }));
    await app.ready();
    const get = () => app.inject({ url: '/a', headers: { 'x-smart-caller': 'billing' } });
    const statuses = async (requests: Promise<{ statusCode: number }>[]) =>
      (await Promise.all(requests)).map((r) => r.statusCode);

    // Off: no limit.
    expect(await statuses([get(), get(), get(), get()])).toEqual([200, 200, 200, 200]);

    // On (as from Atlas): these requests arrive while the limiter loads; none passes uncounted.
    live.set({ protection: { rateLimit: { enabled: true } } });
    const limited = await Promise.all([get(), get(), get()]);
    expect(limited.map((r) => r.statusCode)).toEqual([200, 200, 429]);
    expect(limited[2]?.headers['retry-after']).toEqual(expect.any(String));
    expect(limited[2]?.json()).toMatchObject({ code: 'SMART_SERVICE_RATE_LIMITED', status: 429 });

    // Off again, then on again: the loaded limiter is reused, its counts kept.
    live.set({ protection: { rateLimit: { enabled: false } } });
    expect(await statuses([get()])).toEqual([200]);
    live.set({ protection: { rateLimit: { enabled: true } } });
    expect(await statuses([get()])).toEqual([429]);
  });
});
