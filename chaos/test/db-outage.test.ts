import pg from 'pg';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { quantile, report } from '../lib/figures.ts';
import { runLoad } from '../lib/load.ts';
import { freshDatabase, sharedDatabaseUrl } from '../lib/servers.ts';
import { startService, until } from '../lib/service-process.ts';

async function terminate(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: sharedDatabaseUrl() });
  await admin.connect();
  try {
    const result = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
      [applicationName],
    );
    return result.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

async function get(url: string) {
  const started = performance.now();
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, ms: performance.now() - started, body: text, headers: res.headers };
}

describe('Postgres trouble', () => {
  it('backends terminated under load (pg_terminate_backend, twice): no exit, no 500, the pool heals', async () => {
    const url = await freshDatabase();
    const service = await startService({ CHAOS_NAME: 'chaos-pg-kill', SMART_DB__URL: url });
    const load = runLoad({ url: `${service.base}/db`, concurrency: 6, durationMs: 7_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killed = [await terminate('chaos-pg-kill')];
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    killed.push(await terminate('chaos-pg-kill'));
    const outcomes = await load;
    const last = outcomes.filter((o) => o.at > Date.now() - 1_500);
    const figures = {
      requests: outcomes.length,
      backendsTerminated: killed.join('+'),
      exits: service.child.exitCode === null ? 0 : 1,
      status500: outcomes.filter((o) => o.status >= 500 && o.status !== 503).length,
      networkErrors: outcomes.filter((o) => o.status === 0).length,
      refused503: outcomes.filter((o) => o.status === 503).length,
      codes: [...new Set(outcomes.map((o) => o.code).filter(Boolean))].join(','),
      okInLast1500ms: last.filter((o) => o.status === 200).length / Math.max(1, last.length),
    };
    report('postgres-backends-terminated', figures);
    expect(killed[0]).toBeGreaterThan(0);
    expect(figures.exits).toBe(0);
    expect(figures.status500).toBe(0);
    expect(figures.networkErrors).toBe(0);
    expect(figures.okInLast1500ms).toBe(1);
    // Every 503 says why: the database, or (at this load, on a shared machine) the saturated event loop.
    const reasons = new Set(['SMART_SERVICE_DEPENDENCY_UNAVAILABLE', 'SMART_SERVICE_OVERLOADED']);
    expect(outcomes.filter((o) => o.status === 503 && !reasons.has(o.code ?? ''))).toEqual([]);
  });

  it('a saturated pool (50 slow queries on 10 connections): 503 in about the acquire timeout, readiness stays 200', async () => {
    const url = await freshDatabase();
    const service = await startService({
      CHAOS_NAME: 'chaos-pg-busy',
      SMART_DB__URL: url,
      SMART_DB__POOL_MAX: '10',
      CHAOS_DB_SLEEP_S: '3',
    });
    const slow = Array.from({ length: 50 }, () => get(`${service.base}/db/slow`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await Promise.all(Array.from({ length: 10 }, () => get(`${service.base}/db`)));
    const ready = await get(`${service.base}/health/ready`);
    const slowResults = await Promise.all(slow);
    await until(async () => (await get(`${service.base}/db`)).status === 200, 5_000, 'pool free again');
    const figures = {
      refused503: refused.filter((r) => r.status === 503).length,
      codes: [...new Set(refused.map((r) => JSON.parse(r.body).code))].join(','),
      p50_503_ms: quantile(
        refused.map((r) => r.ms),
        0.5,
      ),
      max_503_ms: Math.max(...refused.map((r) => r.ms)),
      readiness: ready.status,
      slowOk: slowResults.filter((r) => r.status === 200).length,
      slow503: slowResults.filter((r) => r.status === 503).length,
      status500: [...refused, ...slowResults].filter((r) => r.status >= 500 && r.status !== 503).length,
    };
    report('postgres-pool-saturated', figures);
    expect(figures.refused503).toBe(10);
    expect(refused.every((r) => JSON.parse(r.body).dependency === 'db' && r.headers['retry-after'] === '1')).toBe(true);
    expect(figures.p50_503_ms).toBeGreaterThanOrEqual(350);
    expect(figures.max_503_ms).toBeLessThan(900);
    expect(figures.readiness).toBe(200);
    expect(figures.status500).toBe(0);
    expect(figures.slowOk).toBeGreaterThanOrEqual(10);
  });
});
