import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, secret } from '../src/index.ts';
import { createLogger, isServiceLogger, writeAccessLine } from '../src/logger.ts';
import { build, SECRETS } from './helper.ts';

describe('logging', () => {
  it('writes JSON lines with service, realm and version, and one access line per request', async () => {
    const app = await build({ name: 'logger-test', version: '9.9.9', realm: 'testing' });
    // The request's logger is the service's: its access line is written from the template.
    let templated = false;
    app.get('/users/:id', async (request) => {
      templated = isServiceLogger(request.log as Logger);
      return { ok: true };
    });
    await app.inject({ url: '/users/42?token=abc', headers: { 'x-request-id': 'log-1' } });
    expect(templated).toBe(true);

    for (const line of app.logs) {
      expect(line).toMatchObject({ service: 'logger-test', realm: 'testing', version: '9.9.9' });
      expect(line.time).toBeGreaterThan(Date.now() - 60_000); // epoch ms
    }
    const access = app.logs.filter((line) => line.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 30,
      requestId: 'log-1',
      method: 'GET',
      route: '/users/:id',
      path: '/users/42',
      status: 200,
    });
    expect(access[0]?.durationMs).toBeTypeOf('number');
    expect(JSON.stringify(app.logs)).not.toContain('token=abc');
  });

  it('writes the access line exactly as pino writes the same fields, odd paths included', async () => {
    const chunks: string[] = [];
    const destination = { write: (chunk: string) => void chunks.push(chunk) };
    const logger = createLogger({ service: 's', version: '1', realm: 'r', level: 'info', pretty: false, destination });
    const log = logger.child({ requestId: 'id-1' });
    const line = {
      method: 'GET',
      route: '/a/:b',
      path: '/a/"\\\u0001é',
      status: 201,
      durationMs: 1.25,
      aborted: false,
    };
    writeAccessLine(log, line);
    writeAccessLine(log, { ...line, route: undefined, aborted: true });
    const { aborted: _, ...fields } = line;
    log.info(fields, 'request completed');
    log.info({ ...fields, route: null, aborted: true }, 'request aborted by the client');
    const [template, templateAborted, pinoLine, pinoAborted] = chunks.map((chunk) => chunk.replace(/"time":\d+/, ''));
    expect(template).toBe(pinoLine);
    expect(templateAborted).toBe(pinoAborted);
    expect(JSON.parse(chunks[0] as string)).toMatchObject({ path: line.path, requestId: 'id-1', status: 201 });
    // Durations of every shape, a static route (its path is its template), other methods.
    chunks.length = 0;
    const durations = [0, 0.004, 0.05, 0.1, 0.5, 1, 1.05, 1.1, 1.25, 12.34, 999.99, 123456.78, 3e7, 1e12];
    for (const [i, ms] of durations.entries()) {
      const durationMs = Math.round(ms * 100) / 100;
      const fields = { method: i % 2 ? 'POST' : 'GET', route: '/static', path: '/static', status: 200, durationMs };
      writeAccessLine(log, { ...fields, aborted: false });
      log.info(fields, 'request completed');
    }
    const lines = chunks.map((chunk) => chunk.replace(/"time":\d+/, ''));
    for (let i = 0; i < lines.length; i += 2) expect(lines[i]).toBe(lines[i + 1]);
    expect(lines).toHaveLength(2 * durations.length);
    chunks.length = 0;
    logger.level = 'warn';
    writeAccessLine(logger.child({ requestId: 'id-2' }), line);
    expect(chunks).toHaveLength(0);
  });

  it("writes a child's lines exactly as pino's own child does, options, serializers and object bindings included", () => {
    const chunks: string[] = [];
    const destination = { write: (chunk: string) => void chunks.push(chunk) };
    const logger = createLogger({ service: 's', version: '1', realm: 'r', level: 'info', pretty: false, destination });
    const pinoChild = Object.getPrototypeOf(logger).child as Logger['child'];
    const cases: [Record<string, unknown>, object | undefined][] = [
      [{ reqId: 'id-"1"\u0001é', n: 2, ok: true, gone: undefined }, {}],
      [{ reqId: 'id-2' }, undefined],
      [{ user: { id: 1, authorization: 'Bearer x' } }, undefined],
      [{ req: { url: '/a' } }, { serializers: { req: (req: { url: string }) => ({ path: req.url }) } }],
      [{ reqId: 'id-3' }, { level: 'warn', msgPrefix: '[p] ' }],
    ];
    for (const [bindings, options] of cases) {
      const ours = logger.child(bindings, options);
      const theirs = pinoChild.call(logger, bindings, options);
      for (const log of [ours, theirs]) {
        log.info({ a: 1 }, 'info line');
        log.warn('warn line');
        log.child({ nested: 'yes' }).error('nested line');
      }
      expect(ours.level).toBe(theirs.level);
      const lines = chunks.splice(0).map((chunk) => chunk.replace(/"time":\d+/, ''));
      const half = lines.length / 2;
      expect(lines.slice(0, half)).toEqual(lines.slice(half));
    }
    // A child follows its parent's level until it sets its own.
    logger.level = 'error';
    logger.child({ reqId: 'id-4' }, {}).warn('quiet');
    expect(chunks).toEqual([]);
  });

  it("a request's logger carries the request id into its lines and its children's, and follows live level changes", async () => {
    const app = await build();
    app.get('/work', async (request) => {
      request.log.info({ step: 1 }, 'working');
      request.log.child({ user: 'ann' }).warn('as a user');
      request.log.debug('too detailed');
      return 'ok';
    });
    app.log.level = 'info';
    await app.inject({ url: '/work', headers: { 'x-request-id': 'child-1' } });
    const mine = app.logs.filter((line) => line.requestId === 'child-1');
    expect(mine.map((line) => line.msg)).toEqual(['working', 'as a user', 'request completed']);
    expect(mine[0]).toMatchObject({ level: 30, step: 1, service: 'test-service' });
    expect(mine[1]).toMatchObject({ level: 40, user: 'ann' });
    app.log.level = 'debug';
    await app.inject({ url: '/work', headers: { 'x-request-id': 'child-2' } });
    expect(app.logs.filter((line) => line.requestId === 'child-2').map((line) => line.msg)).toContain('too detailed');
  });

  it("labels each access line with its route's template, read from Fastify's route context, and unmatched URLs with null", async () => {
    const app = await build();
    let contextSymbol = false;
    app.get('/users/:id', async (request) => {
      // routeOf reads the template under this symbol (routeOptions builds an object per read).
      contextSymbol = Object.getOwnPropertySymbols(request).some((s) => s.description === 'fastify.context');
      return 'ok';
    });
    await app.inject('/users/7');
    await app.inject('/nowhere/at/all');
    expect(contextSymbol).toBe(true);
    const lines = app.logs.filter((line) => String(line.msg).startsWith('request'));
    expect(lines.map((line) => [line.route, line.path, line.status])).toEqual([
      ['/users/:id', '/users/7', 200],
      [null, '/nowhere/at/all', 404],
    ]);
  });

  it('keeps health and metrics probes out of the access log', async () => {
    const app = await build();
    await app.inject('/health/live');
    await app.inject('/health/ready');
    await app.inject('/metrics');
    expect(app.logs.filter((line) => line.msg === 'request completed')).toEqual([]);
  });

  it('redacts authorization, cookie and similar keys whatever their case', async () => {
    const app = await build();
    app.get('/echo', async (req) => {
      req.log.info({ headers: req.headers }, 'incoming headers');
      req.log.info(
        { upstream: { headers: { Authorization: 'Bearer up-123', COOKIE: 'sid=up-456', 'X-Api-Key': 'k-789' } } },
        'upstream',
      );
      return 'ok';
    });
    await app.inject({
      url: '/echo',
      headers: {
        Authorization: 'Bearer in-123',
        Cookie: 'sid=in-456',
        'Proxy-Authorization': 'Basic in-789',
        accept: 'x/y',
      },
    });
    const text = JSON.stringify(app.logs);
    for (const value of ['in-123', 'in-456', 'in-789', 'up-123', 'up-456', 'k-789']) expect(text).not.toContain(value);
    const incoming = app.logs.find((line) => line.msg === 'incoming headers') as { headers: Record<string, string> };
    expect(incoming.headers).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]', accept: 'x/y' });
  });

  it('shows secrets from config as [redacted], even when the whole config is logged', async () => {
    const definition = defineConfig({ schema: z.object({ apiToken: z.string() }), defaults: { apiToken: secret() } });
    const app = await build({
      config: definition,
      realm: 'production',
      env: { SMART_API_TOKEN: SECRETS.apiToken, SMART_BUGSNAG__API_KEY: SECRETS.bugsnagKey },
    });
    app.log.info({ config: app.config }, 'config at start');
    app.log.info(`token is ${app.config.apiToken}`);
    expect(app.config.apiToken.reveal()).toBe(SECRETS.apiToken);
    const line = app.logs.find((l) => l.msg === 'config at start') as {
      config: { apiToken: string; bugsnag: { apiKey: string } };
    };
    expect(line.config.apiToken).toBe('[redacted]');
    expect(line.config.bugsnag.apiKey).toBe('[redacted]');
    expect(app.logs.at(-1)?.msg).toBe('token is [redacted]');
  });

  it('follows a live change of log.level', async () => {
    const { memorySource } = await import('smart-config');
    const runtime = memorySource('atlas', { log: { level: 'warn' } });
    const app = await build({ realm: 'testing', sources: [runtime] });
    app.log.info('hidden');
    runtime.set({ log: { level: 'info' } });
    app.log.info('shown');
    const messages = app.logs.map((line) => line.msg);
    expect(messages).not.toContain('hidden');
    expect(messages).toContain('shown');
    expect(app.logs.find((line) => line.msg === 'config changed')).toMatchObject({ changed: ['log.level'] });
  });
});
