import { createServer, type IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { SmartServiceError } from '../src/index.ts';
import { build, eventually, listen, SECRETS } from './helper.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

/** The slice of Bugsnag's event payload these tests read. */
interface BugsnagEvent {
  exceptions: { errorClass: string; message: string }[];
  context: string;
  app: Record<string, unknown>;
  metaData: Record<string, Record<string, unknown>>;
}

async function problemOf(base: string, path: string, init: Parameters<typeof request>[1] = {}) {
  const res = await request(`${base}${path}`, init);
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    body: (await res.body.json()) as Record<string, unknown>,
  };
}

async function appWithRoutes(options: Parameters<typeof build>[0] = {}) {
  const app = await build({ name: 'orders', ...options });
  app.post(
    '/orders',
    {
      schema: {
        body: {
          type: 'object',
          required: ['sku', 'quantity'],
          properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async () => ({ ok: true }),
  );
  app.get('/boom', async () => {
    throw new Error('database password mismatch for user admin');
  });
  app.get('/orders/:id', async (req, reply) =>
    reply.notFound(`order ${(req.params as { id: string }).id} does not exist`),
  );
  app.get('/conflict', async () => {
    throw app.httpErrors.conflict('sku already taken');
  });
  app.get('/coded', async () => {
    throw Object.assign(new Error('fib(90) costs 12, user ann has 3'), {
      statusCode: 402,
      code: 'FIB_INSUFFICIENT_CREDIT',
      problem: { cost: 12, credit: 3 },
    });
  });
  app.get('/unavailable', async () => {
    throw app.httpErrors.serviceUnavailable('upstream down');
  });
  return { app, base: await listen(app) };
}

describe('problem+json errors', () => {
  it('answers schema validation failures with 400 and the failing fields', async () => {
    const { base } = await appWithRoutes();
    const res = await problemOf(base, '/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'val-1' },
      body: JSON.stringify({ quantity: 0 }),
    });
    expect(res.status).toBe(400);
    expect(res.type).toBe(PROBLEM);
    expect(res.body).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      code: 'SMART_SERVICE_VALIDATION_FAILED',
      requestId: 'val-1',
      service: 'orders',
    });
    expect(res.body.errors).toEqual([{ in: 'body', field: '/sku', message: "must have required property 'sku'" }]);
    expect(res.body.detail).toEqual(expect.any(String));
  });

  it('answers malformed JSON with 400, unknown routes with 404 and oversized bodies with 413', async () => {
    const { base } = await appWithRoutes({ env: { SMART_HTTP__BODY_LIMIT: '64' } });
    const json = { 'content-type': 'application/json' };

    const malformed = await problemOf(base, '/orders', { method: 'POST', headers: json, body: '{"sku": "a",' });
    expect(malformed).toMatchObject({ status: 400, type: PROBLEM, body: { status: 400, title: 'Bad Request' } });

    const missing = await problemOf(base, '/nowhere?x=1');
    expect(missing).toMatchObject({
      status: 404,
      type: PROBLEM,
      body: { status: 404, code: 'SMART_SERVICE_ROUTE_NOT_FOUND', detail: 'no route for GET /nowhere' },
    });

    const big = await problemOf(base, '/orders', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ sku: 'x'.repeat(200), quantity: 1 }),
    });
    expect(big).toMatchObject({ status: 413, type: PROBLEM, body: { status: 413, title: 'Payload Too Large' } });
  });

  it('makes @fastify/sensible httpErrors and coded errors into problems, keeping their extensions', async () => {
    const { base } = await appWithRoutes();
    expect(await problemOf(base, '/orders/42')).toMatchObject({
      status: 404,
      body: { detail: 'order 42 does not exist', code: 'NOT_FOUND', title: 'Not Found' },
    });
    expect(await problemOf(base, '/conflict')).toMatchObject({
      status: 409,
      body: { detail: 'sku already taken', code: 'CONFLICT' },
    });
    expect(await problemOf(base, '/coded')).toMatchObject({
      status: 402,
      body: { code: 'FIB_INSUFFICIENT_CREDIT', detail: 'fib(90) costs 12, user ann has 3', cost: 12, credit: 3 },
    });
  });

  it('sets the response headers an error asks for (WWW-Authenticate), but never its own content type', async () => {
    const app = await build();
    app.get('/private', async () => {
      throw Object.assign(new Error('log in first'), {
        statusCode: 401,
        code: 'LOGIN_REQUIRED',
        headers: { 'www-authenticate': 'Basic realm="test"', 'content-type': 'text/html' },
      });
    });
    const res = await app.inject('/private');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="test"');
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.json()).toMatchObject({ code: 'LOGIN_REQUIRED', detail: 'log in first' });
  });

  it('answers a SmartServiceError thrown by the service with its status, code, headers and problem members', async () => {
    const app = await build({ realm: 'production' });
    app.get('/busy', async () => {
      throw new SmartServiceError('ORDERS_BUSY', 503, 'the order book is closing', {
        headers: { 'retry-after': '5' },
        problem: { reopensAt: '09:00' },
        expose: true,
        report: false,
      });
    });
    const res = await app.inject('/busy');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ code: 'ORDERS_BUSY', detail: 'the order book is closing', reopensAt: '09:00' });
    expect(app.logs.some((line) => line.msg === 'request refused')).toBe(true);
    expect(app.logs.some((line) => line.msg === 'request failed')).toBe(false);
  });

  it('shows the message and stack of a 500 outside production', async () => {
    const { base } = await appWithRoutes({ realm: 'testing' });
    const res = await problemOf(base, '/boom');
    expect(res).toMatchObject({ status: 500, type: PROBLEM, body: { code: 'SMART_SERVICE_INTERNAL_ERROR' } });
    expect(res.body.detail).toBe('database password mismatch for user admin');
    expect(res.body.stack).toContain('errors.test.ts');
  });

  it('hides the message and stack of a 500 in production, and logs them instead', async () => {
    const { app, base } = await appWithRoutes({ realm: 'production' });
    const res = await problemOf(base, '/boom', { headers: { 'x-request-id': 'prod-500' } });
    expect(res.status).toBe(500);
    expect(res.body).not.toHaveProperty('stack');
    expect(JSON.stringify(res.body)).not.toContain('password mismatch');
    expect(res.body).toMatchObject({ requestId: 'prod-500', detail: expect.stringContaining('request id') });
    const logged = app.logs.find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({
      level: 50,
      requestId: 'prod-500',
      err: { message: 'database password mismatch for user admin' },
    });

    const unavailable = await problemOf(base, '/unavailable');
    expect(unavailable).toMatchObject({ status: 503, body: { title: 'Service Unavailable' } });
    expect(unavailable.body.detail).not.toContain('upstream down');
  });
});

describe('Bugsnag reporting', () => {
  const received: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
  const listener = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data) });
      res.writeHead(202).end();
    });
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('sends a 500 with request id, route, realm and service to the notify endpoint, and never a 4xx', async () => {
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address() as { port: number };
    const endpoint = `http://127.0.0.1:${address.port}`;
    const { app, base } = await appWithRoutes({
      realm: 'testing',
      version: '4.5.6',
      env: {
        SMART_BUGSNAG__API_KEY: SECRETS.bugsnagKey,
        SMART_BUGSNAG__NOTIFY_ENDPOINT: `${endpoint}/notify`,
        SMART_BUGSNAG__SESSIONS_ENDPOINT: `${endpoint}/sessions`,
      },
    });

    await problemOf(base, '/nowhere');
    await problemOf(base, '/orders/7');
    await problemOf(base, '/boom', { headers: { 'x-request-id': 'bug-500' } });
    await eventually(() => received.length >= 1);
    await app.close(); // waits for reports still being sent
    expect(received).toHaveLength(1);

    const report = received[0] as (typeof received)[number];
    expect(report.headers['bugsnag-api-key']).toBe(SECRETS.bugsnagKey);
    const event = (report.body.events as BugsnagEvent[])[0] as BugsnagEvent;
    expect(event.exceptions[0]).toMatchObject({
      errorClass: 'Error',
      message: 'database password mismatch for user admin',
    });
    expect(event.context).toBe('GET /boom');
    expect(event.app).toMatchObject({ releaseStage: 'testing', version: '4.5.6' });
    expect(event.metaData.request).toMatchObject({ requestId: 'bug-500', route: '/boom', method: 'GET' });
    expect(event.metaData.service).toMatchObject({ name: 'orders', realm: 'testing', version: '4.5.6' });
  });
});
