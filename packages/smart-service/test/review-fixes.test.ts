import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { sql } from 'kysely';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig } from '../src/index.ts';
import { build, databaseUrl, eventually, listen, SECRETS } from './helper.ts';

describe('errors that are not Errors, and internal codes', () => {
  it('answers problem+json 500 for throw null, throw a string and a bare rejection', async () => {
    const app = await build({ realm: 'production' });
    app.get('/null', async () => {
      throw null;
    });
    app.get('/string', async () => {
      throw 'plain text';
    });
    app.get('/reject', () => Promise.reject());
    for (const path of ['/null', '/string', '/reject']) {
      const res = await app.inject(path);
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 500, code: 'SMART_SERVICE_INTERNAL_ERROR' });
    }
    expect(app.logs.filter((l) => l.msg === 'request failed')).toHaveLength(3);
  });

  it('keeps an internal code (a SQLSTATE, ECONNREFUSED) out of the problem unless the error chose a status', async () => {
    const app = await build({ realm: 'production' });
    app.get('/pg', async () => {
      throw Object.assign(new Error('duplicate key value violates unique constraint "users_pkey"'), { code: '23505' });
    });
    app.get('/chosen', async () => {
      throw Object.assign(new Error('sku taken'), { code: 'ORDERS_SKU_TAKEN', statusCode: 409 });
    });
    const internal = (await app.inject('/pg')).json();
    expect(internal.code).toBe('SMART_SERVICE_INTERNAL_ERROR');
    expect(JSON.stringify(internal)).not.toContain('users_pkey');
    expect((await app.inject('/chosen')).json()).toMatchObject({ status: 409, code: 'ORDERS_SKU_TAKEN' });
  });
});

describe('Bugsnag', () => {
  it('sends no console breadcrumbs, leaves console alone, and does not hold close() up when the endpoint hangs', async () => {
    const received: string[] = [];
    const hanging = createServer((req) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => received.push(body)); // and never answers
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;
    const originalLog = console.log;
    try {
      const app = await build({
        realm: 'testing',
        env: {
          SMART_BUGSNAG__API_KEY: SECRETS.bugsnagKey,
          SMART_BUGSNAG__NOTIFY_ENDPOINT: endpoint,
          SMART_BUGSNAG__SESSIONS_ENDPOINT: endpoint,
        },
      });
      expect(console.log).toBe(originalLog);
      app.get('/boom', async () => {
        console.info(`connecting with password=${SECRETS.apiToken}`);
        throw new Error('boom');
      });
      await app.inject('/boom');
      await eventually(() => received.length === 1);
      expect(received[0]).not.toContain(SECRETS.apiToken);
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(4_500);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});

describe('logging', () => {
  it('redacts credentials inside errors and arrays', async () => {
    const app = await build();
    const err = Object.assign(new Error('upstream failed'), {
      config: { headers: { Authorization: 'Bearer in-error' } },
    });
    app.log.info({ err }, 'with error');
    app.log.info({ list: [{ authorization: 'Bearer in-array' }] }, 'with array');
    const text = JSON.stringify(app.logs);
    for (const value of ['in-error', 'in-array']) expect(text).not.toContain(value);
    expect(app.logs.find((l) => l.msg === 'with error')).toMatchObject({ err: { message: 'upstream failed' } });
  });
});

describe('aborted requests', () => {
  it('leave in-flight at rest, count as 499 and get an access line', async () => {
    const app = await build();
    app.get('/slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 400)));
    const base = await listen(app);
    const controller = new AbortController();
    const aborted = request(`${base}/slow`, { signal: controller.signal }).catch(() => 'aborted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await aborted).toBe('aborted');
    await eventually(() => app.logs.some((l) => l.msg === 'request aborted by the client'));
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/http_requests_in_flight\{service="test-service"\} 1$/m); // only the scrape itself
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/slow",status="499"\} 1/);
    // The handler answers later, into the closed connection: nothing is ended twice.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(app.logs.filter((l) => l.route === '/slow').map((l) => l.status)).toEqual([499]);
    expect((await app.inject('/metrics')).body).not.toMatch(/route="\/slow",status="200"/);
  });

  it('ends every pipelined request of a connection that closes, and none of a connection kept open', async () => {
    const app = await build();
    app.get('/slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 300)));
    app.get('/fast', async () => 'ok');
    const base = new URL(await listen(app));
    const open = (requests: string) =>
      new Promise<Socket>((resolve) => {
        const socket = connect(Number(base.port), '127.0.0.1', () => {
          socket.write(requests);
          resolve(socket);
        });
        socket.on('error', () => {});
      });
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;
    const hungUp = await open(get('/slow') + get('/slow'));
    const kept = await open(get('/fast') + get('/fast'));
    await eventually(() => app.logs.filter((l) => l.route === '/fast').length === 2);
    await eventually(() => app.lifecycle.inFlight.size === 2);
    hungUp.destroy();
    await eventually(() => app.logs.filter((l) => l.status === 499).length === 2);
    expect(app.lifecycle.inFlight.size).toBe(0);
    kept.destroy();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const statuses = app.logs.filter((l) => String(l.msg).startsWith('request')).map((l) => `${l.route} ${l.status}`);
    expect(statuses.sort()).toEqual(['/fast 200', '/fast 200', '/slow 499', '/slow 499']);
  });
});

describe('config of the service keys', () => {
  it('lets the service’s own defaults win over the built-in realm local overrides', async () => {
    const definition = defineConfig({
      schema: z.object({ http: z.object({ host: z.string() }), log: z.object({ level: z.string() }) }),
      defaults: { http: { host: '0.0.0.0' }, log: { level: 'warn' } },
    });
    const app = await build({ config: definition, realm: 'local' });
    expect(app.config.http.host).toBe('0.0.0.0');
    expect(app.config.log.level).toBe('warn');
    expect(app.config.shutdown.drainDelayMs).toBe(0); // not set by the service: the local override stands
  });

  it('accepts a plain (non-secret) default for db.url', async () => {
    const definition = defineConfig({
      schema: z.object({ db: z.object({ url: z.string() }) }),
      defaults: { db: { url: databaseUrl() } },
    });
    const app = await build({ config: definition, realm: 'testing' });
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(app.db);
    expect(rows[0]?.one).toBe(1);
  });
});
