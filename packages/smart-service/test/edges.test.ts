import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { build, listen } from './helper.ts';

async function rawRequest(base: string, text: string): Promise<string> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.write(text);
  await new Promise((resolve) => socket.once('close', resolve));
  return received;
}

describe("Fastify's own answers and the edges", () => {
  it('a wrong method on a known path is 405 with Allow, as problem+json', async () => {
    const app = await build();
    app.get('/things/:id', async () => ({ ok: true }));
    app.put('/things/:id', async () => ({ ok: true }));
    const res = await app.inject({ method: 'POST', url: '/things/42' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, PUT');
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'SMART_SERVICE_METHOD_NOT_ALLOWED', status: 405 });
    expect((await app.inject({ method: 'POST', url: '/nothing' })).statusCode).toBe(404);
  });

  it('a URL Fastify cannot decode (%ZZ) is a 400 problem with x-request-id', async () => {
    const app = await build();
    app.get('/things/:id', async () => ({ ok: true }));
    const res = await app.inject('/things/%ZZ');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(res.json()).toMatchObject({ status: 400, requestId: res.headers['x-request-id'] });
  });

  it('a JSON body nesting deeper than http.maxJsonDepth is refused before parsing; 100,000 deep never reaches the handler', async () => {
    const app = await build({ env: { SMART_HTTP__MAX_JSON_DEPTH: '20' } });
    let reached = 0;
    app.post('/echo', async (request) => {
      reached++;
      return request.body;
    });
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      payload: deep,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'SMART_SERVICE_BODY_TOO_DEEP' });
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { a: { b: ['[[[[', '{{{{'] } } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ a: { b: ['[[[[', '{{{{'] } });
    expect(reached).toBe(1);
    const poisoned = await app.inject({
      method: 'POST',
      url: '/echo',
      payload: '{"__proto__":{"x":1}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(poisoned.statusCode).toBe(400);
  });

  it('slow headers and bodies are cut at http.headersTimeoutMs / requestTimeoutMs (30 s by default), checked every second', async () => {
    const app = await build({
      env: { SMART_HTTP__HEADERS_TIMEOUT_MS: '2000', SMART_HTTP__REQUEST_TIMEOUT_MS: '2000' },
    });
    app.post('/upload', async () => ({ ok: true }));
    const base = await listen(app);
    const started = performance.now();
    const answer = await rawRequest(base, 'GET / HTTP/1.1\r\nhost: x\r\n');
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(answer).toContain('408');

    // Given to Node two check intervals (1 s) early, so 30 s is cut by 30 s.
    const defaults = await build();
    expect(defaults.server.headersTimeout).toBe(28_000);
    expect(defaults.server.requestTimeout).toBe(28_000);
  });

  it('redacts rawHeaders and the common credential names in log lines', async () => {
    const app = await build();
    app.log.info(
      {
        rawHeaders: ['Host', 'x', 'X-Auth-Token', 'tok-1', 'Authorization', 'Bearer tok-2'],
        body: { password: 'pw-1', api_key: 'key-1', token: 'tok-3', client_secret: 'sec-1', name: 'ann' },
      },
      'incoming',
    );
    const line = app.logs.find((l) => l.msg === 'incoming') as Record<string, unknown>;
    const text = JSON.stringify(line);
    for (const secret of ['tok-1', 'tok-2', 'pw-1', 'key-1', 'tok-3', 'sec-1']) expect(text).not.toContain(secret);
    expect(line.rawHeaders).toEqual(['Host', 'x', 'X-Auth-Token', '[redacted]', 'Authorization', '[redacted]']);
    expect((line.body as Record<string, unknown>).name).toBe('ann');
  });
});
