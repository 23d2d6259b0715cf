import { memorySource } from 'smart-config';
import { describe, expect, it } from 'vitest';
import { build, listen } from './helper.ts';

describe('fault injection', () => {
  it('route faults turn on and off live: latency, abort status, reset; each marked in the logs; probes untouched', async () => {
    const live = memorySource('atlas');
    const app = await build({ realm: 'testing', sources: [live] });
    app.get('/work', async () => ({ ok: true }));
    const base = await listen(app);
    expect((await app.inject('/work')).statusCode).toBe(200);

    live.set({ faults: { rules: [{ route: '/work', percent: 100, abortStatus: 502 }] } });
    const aborted = await app.inject('/work');
    expect(aborted.statusCode).toBe(502);
    expect(aborted.json()).toMatchObject({ code: 'SMART_SERVICE_INJECTED_FAULT' });
    expect((await app.inject('/health/ready')).statusCode).toBe(200);

    live.set({ faults: { rules: [{ route: '*', percent: 100, latencyMs: 150 }] } });
    const started = performance.now();
    expect((await app.inject('/work')).statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    live.set({ faults: { rules: [{ route: '/work', percent: 100, reset: true }] } });
    await expect(fetch(`${base}/work`)).rejects.toThrow();

    live.set({ faults: { rules: [] } });
    expect((await app.inject('/work')).statusCode).toBe(200);
    const marks = app.logs.filter((line) => line.msg === 'fault injected');
    expect(marks.map((line) => line.fault)).toEqual([
      { where: 'route', target: '/work', abortStatus: 502 },
      { where: 'route', target: '/work', latencyMs: 150 },
      { where: 'route', target: '/work', reset: true },
    ]);
  });

  it('a percentage applies to about that share of requests', async () => {
    const live = memorySource('atlas', { faults: { rules: [{ route: '/work', percent: 30, abortStatus: 503 }] } });
    const app = await build({ realm: 'testing', sources: [live] });
    app.get('/work', async () => ({ ok: true }));
    let failed = 0;
    for (let i = 0; i < 400; i++) if ((await app.inject('/work')).statusCode === 503) failed++;
    expect(failed).toBeGreaterThan(70);
    expect(failed).toBeLessThan(170);
  });

  it('upstream faults fail calls through app.client (abort status, reset) without sending them', async () => {
    let reached = 0;
    const upstream = await build({ name: 'upstream', realm: 'testing' });
    upstream.get('/thing', async () => {
      reached++;
      return { ok: true };
    });
    const upstreamUrl = await listen(upstream);
    const live = memorySource('atlas');
    const app = await build({
      realm: 'testing',
      sources: [live],
      env: { SMART_SERVICE_UPSTREAM_URL: upstreamUrl },
    });
    app.get('/call', async () => app.client.get('service://upstream/thing'));
    expect((await app.inject('/call')).statusCode).toBe(200);
    expect(reached).toBe(1);

    live.set({ faults: { rules: [{ upstream: 'upstream', percent: 100, abortStatus: 404 }] } });
    const failed = await app.inject('/call');
    expect(failed.statusCode).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(failed.json())).toContain('SMART_SERVICE_INJECTED_FAULT');
    expect(reached).toBe(1);
    expect(
      app.logs.some((line) => line.msg === 'fault injected' && (line.fault as { where: string }).where === 'upstream'),
    ).toBe(true);
    live.set({ faults: { rules: [] } });
    expect((await app.inject('/call')).statusCode).toBe(200);
  });

  it('is refused in realm production (logged), unless faults.allowInProduction', async () => {
    const rules = [{ route: '/work', percent: 100, abortStatus: 503 }];
    const refused = await build({
      realm: 'production',
      sources: [memorySource('atlas', { faults: { rules } })],
      env: { SMART_HTTP__HOST: '127.0.0.1' },
    });
    refused.get('/work', async () => ({ ok: true }));
    expect((await refused.inject('/work')).statusCode).toBe(200);
    expect(refused.logs.find((line) => line.code === 'SMART_SERVICE_FAULTS_REFUSED')).toMatchObject({ level: 50 });

    const allowed = await build({
      realm: 'production',
      sources: [memorySource('atlas', { faults: { rules, allowInProduction: true } })],
    });
    allowed.get('/work', async () => ({ ok: true }));
    expect((await allowed.inject('/work')).statusCode).toBe(503);
  });
});
