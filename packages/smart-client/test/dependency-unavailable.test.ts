import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

/** What a smart service answers while its Redis or database is down (smart-service's DependencyUnavailableError). */
const dependencyDown = {
  type: 'about:blank',
  title: 'Service Unavailable',
  status: 503,
  detail: 'redis is unavailable: retry shortly',
  code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE',
  service: 'users',
  dependency: 'redis',
};

describe('a dependency outage upstream (503 SMART_SERVICE_DEPENDENCY_UNAVAILABLE)', () => {
  it('is retried at once on another instance (its Retry-After is for itself), and ejects the instance', async () => {
    const down = await upstream((_req, res) => {
      res.setHeader('retry-after', '1');
      json(res, 503, dependencyDown, 'application/problem+json');
    });
    const up = await upstream((_req, res) => json(res, 200, { ok: true }));
    const ejected: string[] = [];
    const c = createClient({
      resolver: staticResolver({ users: [down.url, up.url] }),
      balancing: 'round-robin',
      ejection: { consecutiveFailures: 3 },
      events: { onEject: (_target, origin) => ejected.push(origin) },
    });
    onTestFinished(() => c.close());
    const started = performance.now();
    for (let i = 0; i < 10; i++) expect(await c.get('service://users/x')).toEqual({ ok: true });
    expect(performance.now() - started).toBeLessThan(900); // no 1 s wait before a retry to the other instance
    expect(ejected).toEqual([down.url]);
    expect(down.seen.length).toBe(3);
  });

  it('with one instance, the retry waits for its Retry-After, and the 503 problem reaches the caller as a RemoteError', async () => {
    const down = await upstream((_req, res) => {
      res.setHeader('retry-after', '0.2');
      json(res, 503, dependencyDown, 'application/problem+json');
    });
    const c = createClient({ resolver: staticResolver({ users: [down.url] }), retry: { maxAttempts: 2 } });
    onTestFinished(() => c.close());
    const started = performance.now();
    const err = await c.get('service://users/x').catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(err).toMatchObject({ status: 503, remoteCode: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE', service: 'users' });
    expect(down.seen.length).toBe(2);
  });
});
