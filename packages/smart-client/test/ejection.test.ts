import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

describe('outlier ejection', () => {
  it('ejects an instance after 5 consecutive failures, and takes it back after the ejection time', async () => {
    let broken = true;
    const flaky = await upstream((_req, res) => (broken ? json(res, 503, {}) : json(res, 200, { from: 'flaky' })));
    const good = await upstream((_req, res) => json(res, 200, { from: 'good' }));
    const c = createClient({
      resolver: staticResolver({ api: [flaky.url, good.url] }),
      retry: { maxAttempts: 1 },
      ejection: { consecutiveFailures: 5, baseMs: 500 },
      balancing: 'round-robin',
    });
    onTestFinished(() => c.close());
    const call = async () => (await c.fetch('service://api/x')).status;

    for (let i = 0; i < 10; i++) await call(); // round robin: 5 to each, the flaky ones fail
    expect(flaky.seen.length).toBe(5);
    const before = flaky.seen.length;
    for (let i = 0; i < 10; i++) expect(await call()).toBe(200); // ejected: every call goes to the good one
    expect(flaky.seen.length).toBe(before);

    broken = false;
    await new Promise((resolve) => setTimeout(resolve, 550));
    for (let i = 0; i < 10; i++) await call();
    expect(flaky.seen.length).toBeGreaterThan(before); // back in service
  });

  it('never ejects the last instance', async () => {
    const only = await upstream((_req, res) => json(res, 503, {}));
    const c = createClient({ resolver: staticResolver({ api: [only.url] }), retry: { maxAttempts: 1 } });
    onTestFinished(() => c.close());
    for (let i = 0; i < 8; i++) expect((await c.fetch('service://api/x')).status).toBe(503);
    expect(only.seen.length).toBe(8);
  });
});
