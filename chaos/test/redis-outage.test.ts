import { describe, expect, it } from 'vitest';
import { bugsnagListener } from '../lib/bugsnag-listener.ts';
import { quantile, report } from '../lib/figures.ts';
import { runLoad } from '../lib/load.ts';
import { privateRedis } from '../lib/servers.ts';
import { startService, until } from '../lib/service-process.ts';

const OUTAGE_MS = 15_000;

describe('Redis killed under load', () => {
  it('15 s without Redis: no exit, no 500, 503 within 500 ms, one error line per transition, one Bugsnag report, all 200 within 5 s of recovery', async () => {
    const redis = privateRedis();
    const bugsnag = await bugsnagListener();
    const service = await startService({
      CHAOS_NAME: 'chaos-redis',
      SMART_REDIS__URL: redis.url,
      SMART_BUGSNAG__API_KEY: '0123456789abcdef0123456789abcdef',
      SMART_BUGSNAG__NOTIFY_ENDPOINT: `${bugsnag.url}/notify`,
      SMART_BUGSNAG__SESSIONS_ENDPOINT: `${bugsnag.url}/sessions`,
    });
    const load = runLoad({ url: `${service.base}/redis`, concurrency: 8, durationMs: 2_000 + OUTAGE_MS + 7_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killedAt = Date.now();
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await redis.restart();
    const restartedAt = Date.now();
    const outcomes = await load;

    const during = outcomes.filter((o) => o.at > killedAt + 50 && o.at < restartedAt);
    const refused = during.filter((o) => o.status === 503);
    // 5 s after the restart (which may itself take seconds on a busy machine), every request succeeds.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, restartedAt + 5_000 - Date.now())));
    const after = [
      ...outcomes.filter((o) => o.at >= restartedAt + 5_000),
      ...(await runLoad({ url: `${service.base}/redis`, concurrency: 8, durationMs: 1_000 })),
    ];
    const firstOk = outcomes.find((o) => o.at >= restartedAt && o.status === 200);
    await until(() => service.lines.some((line) => line.msg === 'redis available again'), 5_000, 'recovery logged');
    const errors = service.lines.filter((line) => Number(line.level) >= 50);
    await until(() => bugsnag.reports.length >= 1, 5_000, 'a Bugsnag report');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const figures = {
      requests: outcomes.length,
      exits: service.child.exitCode === null ? 0 : 1,
      status500: outcomes.filter((o) => o.status >= 500 && o.status !== 503).length,
      networkErrors: outcomes.filter((o) => o.status === 0).length,
      refused503: refused.length,
      dependency503: refused.filter((o) => o.code === 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE').length,
      shed503: refused.filter((o) => o.code === 'SMART_SERVICE_OVERLOADED').length,
      p99_503_ms: quantile(
        refused.map((o) => o.ms),
        0.99,
      ),
      // (reduce, not Math.max(...): a long outage refuses more requests than a call has argument slots)
      max_503_ms: refused.reduce((max, o) => Math.max(max, o.ms), 0),
      errorLines: errors.length,
      upLines: service.lines.filter((line) => line.msg === 'redis available again').length,
      logLines: service.lines.length,
      bugsnagReports: bugsnag.reports.length,
      recoveredInMs: firstOk ? firstOk.at - restartedAt : -1,
      successAfter5s: after.length ? after.filter((o) => o.status === 200).length / after.length : 0,
    };
    report('redis-killed-15s', figures);

    expect(figures.exits).toBe(0);
    expect(figures.status500).toBe(0);
    expect(figures.networkErrors).toBe(0);
    // Every 503 says why and when to come back: Redis, or (at this load) the saturated event loop.
    const reasons = new Set(['SMART_SERVICE_DEPENDENCY_UNAVAILABLE', 'SMART_SERVICE_OVERLOADED']);
    expect(refused.filter((o) => !reasons.has(o.code ?? '') || !o.headers['retry-after'])).toEqual([]);
    expect(figures.dependency503).toBeGreaterThan(100);
    expect(figures.max_503_ms).toBeLessThan(500);
    expect(errors.map((line) => line.msg)).toEqual(['redis unavailable']);
    expect(figures.upLines).toBe(1);
    expect(figures.bugsnagReports).toBe(1);
    expect(after.length).toBeGreaterThan(0);
    expect(figures.successAfter5s).toBe(1);
  });
});

const HANG_MS = 8_000;

describe('Redis hung under load', () => {
  it('8 s of a hung Redis (SIGSTOP: sockets open, nothing answers): the requests that detect it answer 503 within 500 ms, every later one fails fast (503 p99 < 50 ms), one error line, all 200 within 5 s of its return', async () => {
    const redis = privateRedis();
    const service = await startService({ CHAOS_NAME: 'chaos-redis-hung', SMART_REDIS__URL: redis.url });
    const load = runLoad({ url: `${service.base}/redis`, concurrency: 8, durationMs: 2_000 + HANG_MS + 7_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const hungAt = Date.now();
    redis.hang();
    await until(() => service.lines.some((line) => line.msg === 'redis unavailable'), 5_000, 'the outage detected');
    const detectedAt = Date.now();
    // The probe's own PING times out as well: from here on, requests fail fast.
    const failingFast = 'redis down: failing fast until a probe succeeds';
    await until(() => service.lines.some((line) => line.msg === failingFast), 5_000, 'the outage confirmed');
    const confirmedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, hungAt + HANG_MS - Date.now())));
    redis.resume();
    const resumedAt = Date.now();
    const outcomes = await load;
    const after = [
      ...outcomes.filter((o) => o.at >= resumedAt + 5_000),
      ...(await runLoad({ url: `${service.base}/redis`, concurrency: 8, durationMs: 1_000 })),
    ];
    await until(() => service.lines.some((line) => line.msg === 'redis available again'), 5_000, 'recovery logged');

    const during = outcomes.filter((o) => o.at > hungAt && o.at < resumedAt);
    // Sent while the outage was being detected and confirmed (each waits for its command timeout), or once it was.
    const detecting = during.filter((o) => o.at < confirmedAt);
    const known = during.filter((o) => o.at >= confirmedAt + 50);
    const knownMs = known.map((o) => o.ms);
    const firstOk = outcomes.find((o) => o.at >= resumedAt && o.status === 200);
    const errors = service.lines.filter((line) => Number(line.level) >= 50);
    const figures = {
      requests: outcomes.length,
      exits: service.child.exitCode === null ? 0 : 1,
      status500: outcomes.filter((o) => o.status >= 500 && o.status !== 503).length,
      networkErrors: outcomes.filter((o) => o.status === 0).length,
      detectedInMs: detectedAt - hungAt,
      failingFastInMs: confirmedAt - hungAt,
      detecting: detecting.length,
      max_detecting_ms: detecting.reduce((max, o) => Math.max(max, o.ms), 0),
      failedFast: known.length,
      failedFastPerSecond: known.length / ((resumedAt - confirmedAt) / 1_000),
      p50_fast_503_ms: quantile(knownMs, 0.5),
      p99_fast_503_ms: quantile(knownMs, 0.99),
      max_fast_503_ms: knownMs.reduce((max, ms) => Math.max(max, ms), 0),
      non503WhileKnown: known.filter((o) => o.status !== 503).length,
      errorLines: errors.length,
      recoveredInMs: firstOk ? firstOk.at - resumedAt : -1,
      successAfter5s: after.length ? after.filter((o) => o.status === 200).length / after.length : 0,
    };
    report('redis-hung-8s', figures);

    expect(figures.exits).toBe(0);
    expect(figures.status500).toBe(0);
    expect(figures.networkErrors).toBe(0);
    const reasons = new Set(['SMART_SERVICE_DEPENDENCY_UNAVAILABLE', 'SMART_SERVICE_OVERLOADED']);
    expect(during.filter((o) => o.status !== 503 || !reasons.has(o.code ?? '') || !o.headers['retry-after'])).toEqual(
      [],
    );
    expect(figures.max_detecting_ms).toBeLessThan(500);
    // Waiting out the 400 ms command timeout each, 8 loops would make ~160 requests in 8 s.
    expect(figures.failedFast).toBeGreaterThan(8 * (HANG_MS / 400) * 3);
    expect(figures.p99_fast_503_ms).toBeLessThan(50);
    expect(errors.map((line) => line.msg)).toEqual(['redis unavailable']);
    // The probe waits at most 2 s between tries (dependencies.probeMaxIntervalMs).
    expect(figures.recoveredInMs).toBeGreaterThanOrEqual(0);
    expect(figures.recoveredInMs).toBeLessThan(3_500);
    expect(after.length).toBeGreaterThan(0);
    expect(figures.successAfter5s).toBe(1);
  });
});
