import { sql } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, eventually, freshDatabase } from './helper.ts';
import { tcpProxy } from './tcp-proxy.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function terminateBackends(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  try {
    const result = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [applicationName],
    );
    return result.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('database outages', () => {
  it('a saturated pool answers 503 in about the acquire timeout, while readiness stays 200 (its check has its own connection)', async () => {
    const app = await build({
      name: 'pool-saturated',
      realm: 'testing',
      env: { SMART_DB__URL: url, SMART_DB__POOL_MAX: '2', SMART_DB__ACQUIRE_TIMEOUT_MS: '300' },
    });
    app.get('/slow', async () => {
      await sql`select pg_sleep(1.5)`.execute(app.db);
      return { ok: true };
    });
    app.get('/quick', async () => (await sql<{ one: number }>`select 1 as one`.execute(app.db)).rows[0]);
    const slow = [app.inject('/slow'), app.inject('/slow')];
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = performance.now();
    const refused = await app.inject('/quick');
    const took = performance.now() - started;
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE', dependency: 'db' });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1_000);

    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.db).toMatchObject({ status: 'ok' });

    expect((await Promise.all(slow)).map((r) => r.statusCode)).toEqual([200, 200]);
    await eventually(async () => (await app.inject('/quick')).statusCode === 200);
    await eventually(() => app.logs.some((line) => line.msg === 'db available again'));
    expect(app.logs.filter((line) => line.msg === 'db unavailable')).toHaveLength(1);
  });

  it('a query on a backend terminated mid-query (pg_terminate_backend) answers 503, and the next ones succeed', async () => {
    const app = await build({ name: 'pg-terminated', realm: 'testing', env: { SMART_DB__URL: url } });
    app.get('/slow', async () => {
      await sql`select pg_sleep(2)`.execute(app.db);
      return { ok: true };
    });
    app.get('/quick', async () => (await sql<{ one: number }>`select 1 as one`.execute(app.db)).rows[0]);
    expect((await app.inject('/quick')).statusCode).toBe(200);

    const running = app.inject('/slow');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await terminateBackends('pg-terminated')).toBeGreaterThan(0);
    const killed = await running;
    expect(killed.statusCode).toBe(503);
    expect(killed.json()).toMatchObject({ code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE', dependency: 'db' });
    expect(killed.body).not.toContain('terminating connection');

    await eventually(async () => (await app.inject('/quick')).statusCode === 200);
    expect(app.logs.filter((line) => Number(line.level) >= 50).map((line) => line.msg)).toEqual(['db unavailable']);
  });

  it.each([
    ['refuses connections (stopped)', 'refuse'],
    ['resets connections', 'reset'],
  ] as const)(
    'fails fast while the database %s: once the outage is known, each query answers 503 in milliseconds without a connection attempt, and the first probe that connects ends it',
    async (_, cut) => {
      // The service reaches Postgres through a proxy the test can cut (the port refuses, open connections drop).
      const direct = new URL(url);
      const proxy = await tcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
      const through = new URL(url);
      through.host = `127.0.0.1:${proxy.port}`;
      const app = await build({ name: `pg-${cut}`, realm: 'testing', env: { SMART_DB__URL: through.href } });
      app.get('/quick', async () => (await sql<{ one: number }>`select 1 as one`.execute(app.db)).rows[0]);
      expect((await app.inject('/quick')).statusCode).toBe(200);

      await proxy[cut]();
      // The first query meets the outage (its pooled connection dropped, or a refused new one).
      const first = await app.inject('/quick');
      expect(first.statusCode).toBe(503);
      // The probe (a connection of its own) fails the same way: the database is known down.
      await eventually(() => app.logs.some((line) => line.msg === 'db down: failing fast until a probe succeeds'));

      const attemptsBefore = proxy.accepted;
      const took: number[] = [];
      for (let i = 0; i < 50; i++) {
        const started = performance.now();
        const refused = await app.inject('/quick');
        took.push(performance.now() - started);
        expect(refused.statusCode).toBe(503);
        expect(refused.headers['retry-after']).toBe('1');
        expect(refused.json()).toMatchObject({ code: 'SMART_SERVICE_DEPENDENCY_UNAVAILABLE', dependency: 'db' });
      }
      expect(Math.max(...took)).toBeLessThan(50);
      // Only the outage's probes tried to connect (refused ones never reach the proxy to be counted).
      expect(proxy.accepted - attemptsBefore).toBeLessThanOrEqual(3);

      await proxy.restore();
      const restored = performance.now();
      await eventually(async () => (await app.inject('/quick')).statusCode === 200);
      // The probe waits at most db's probeMaxIntervalMs (2 s) between tries.
      expect(performance.now() - restored).toBeLessThan(3_500);
      expect(app.logs.filter((line) => Number(line.level) >= 50).map((line) => line.msg)).toEqual(['db unavailable']);
      const back = app.logs.filter((line) => line.msg === 'db available again');
      expect(back).toHaveLength(1);
      expect(back[0]?.refused).toBeGreaterThanOrEqual(50);
    },
  );

  it('a saturated pool is busy, not down: queries still wait their turn (no fast failure) and succeed once connections free up', async () => {
    const app = await build({
      name: 'pool-busy',
      realm: 'testing',
      env: { SMART_DB__URL: url, SMART_DB__POOL_MAX: '1', SMART_DB__ACQUIRE_TIMEOUT_MS: '200' },
    });
    const held = Promise.withResolvers<void>();
    const holds = Promise.withResolvers<void>();
    app.get('/hold', async () => {
      // Holds the pool's one connection until the test lets go.
      await app.db.connection().execute(async (db) => {
        await sql`select 1`.execute(db);
        holds.resolve();
        await held.promise;
      });
      return { ok: true };
    });
    app.get('/quick', async () => (await sql<{ one: number }>`select 1 as one`.execute(app.db)).rows[0]);
    const holding = app.inject('/hold');
    await holds.promise;

    // Each query waits the acquire timeout before its 503, every time: never answered at once as "down".
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const refused = await app.inject('/quick');
      expect(refused.statusCode).toBe(503);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    }
    expect(app.logs.find((line) => line.msg === 'db unavailable')).toMatchObject({ busy: true });

    held.resolve();
    expect((await holding).statusCode).toBe(200);
    expect((await app.inject('/quick')).statusCode).toBe(200);
    await eventually(() => app.logs.some((line) => line.msg === 'db available again'));
  });

  it('a bug in a query stays a 500 (not an outage)', async () => {
    const app = await build({ name: 'pg-bug', realm: 'testing', env: { SMART_DB__URL: url } });
    app.get('/bad', async () => sql`select * from no_such_table`.execute(app.db));
    const bad = await app.inject('/bad');
    expect(bad.statusCode).toBe(500);
    expect(bad.json().code).toBe('SMART_SERVICE_INTERNAL_ERROR');
  });
});
