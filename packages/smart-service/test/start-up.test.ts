import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { build, listen } from './helper.ts';

interface Start {
  readonly status: number;
  readonly files: readonly string[];
  readonly internals: readonly string[];
  readonly marks: readonly string[];
}

// One start of a default service in a fresh process (fixtures/hello-start.ts).
async function startOnce(): Promise<Start> {
  const fixture = fileURLToPath(new URL('./fixtures/hello-start.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [fixture], { env: { ...process.env } });
  const line = stdout.split('\n').find((text) => text.startsWith('{"status"'));
  return JSON.parse(line as string) as Start;
}

const packageOf = (file: string) =>
  file
    .split('/')
    .slice(0, file.startsWith('@') ? 2 : 1)
    .join('/');

describe('a cold start', () => {
  it('loads no code of a feature that is off or not used yet, and marks its phases', async () => {
    const start = await startOnce();
    expect(start.status).toBe(200);
    const packages = new Set(start.files.map(packageOf));
    const unused = [
      // Off: the database, Redis, Bugsnag, Atlas, tracing's SDK, rate limits, load shedding.
      'kysely',
      'pg',
      '@electric-sql/pglite',
      'ioredis',
      '@bugsnag/js',
      'atlas-client',
      '@opentelemetry/sdk-trace-base',
      '@fastify/rate-limit',
      '@fastify/under-pressure',
      // Not used yet: the OpenAPI document (first /openapi.json), the reference page (first /docs),
      // JSON Schema compilers (first route with a JSON Schema), zod's (first zod route), the
      // client's pool (first call).
      '@fastify/swagger',
      'yaml',
      '@scalar/fastify-api-reference',
      'ajv',
      '@fastify/ajv-compiler',
      '@fastify/fast-json-stringify-compiler',
      'fastify-type-provider-zod',
      'undici',
      // The OpenTelemetry API: the client's first call, the first read of app.tracer, a fault fired.
      '@opentelemetry/api',
      // Made a second after listening, or at the first scrape or use of app.metrics.
      'prom-client',
      // @fastify/sensible's heavier parts (first app.httpErrors or error reply, request.is()).
      'http-errors',
      'type-is',
      'mime-db',
    ];
    expect(unused.filter((name) => packages.has(name))).toEqual([]);
    // Fastify's error serializer needs only fast-json-stringify's runtime, not its compiler.
    expect(start.files.filter((file) => file.startsWith('fast-json-stringify/index'))).toEqual([]);
    // An ES import of node:http would load Node's bundled undici (problem-errors.ts); prom-client, zlib.
    expect(start.internals).not.toContain('NativeModule internal/deps/undici/undici');
    expect(start.internals).not.toContain('NativeModule zlib');
    expect(start.marks).toEqual([
      'smart-service:create',
      'smart-service:config',
      'smart-service:fastify',
      'smart-service:plugins',
      'smart-service:ready',
      'smart-service:listening',
    ]);
  });

  it('makes the metrics registry a second after listening: a first scrape sees the event loop measured', async () => {
    const app = await build();
    await listen(app);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const body = (await app.inject('/metrics')).body;
    // A registry made at this scrape would show an empty delay histogram's minimum (9223372036 s).
    const min = Number(/^nodejs_eventloop_lag_min_seconds\{[^}]*\} (\S+)$/m.exec(body)?.[1]);
    expect(min).toBeGreaterThan(0);
    expect(min).toBeLessThan(1);
  });

  it('still validates and serializes JSON Schema routes as Fastify does, header names in any case', async () => {
    const app = await build();
    app.post(
      '/orders',
      {
        schema: {
          headers: { type: 'object', properties: { 'X-Api-Key': { type: 'string' } }, required: ['X-Api-Key'] },
          body: { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] },
          response: { 200: { type: 'object', properties: { sku: { type: 'string' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), internal: 'not in the schema' }),
    );
    const headers = { 'x-api-key': 'k' };
    const ok = await app.inject({ method: 'POST', url: '/orders', headers, payload: { sku: 'a1' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ sku: 'a1' });
    const noKey = await app.inject({ method: 'POST', url: '/orders', payload: { sku: 'a1' } });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json()).toMatchObject({ code: 'SMART_SERVICE_VALIDATION_FAILED' });
    const noSku = await app.inject({ method: 'POST', url: '/orders', headers, payload: {} });
    expect(noSku.statusCode).toBe(400);
    expect(noSku.headers['content-type']).toContain('application/problem+json');
  });
});
