// Tracing as a service's users and operators depend on it: spans reach an
// OTLP receiver on loopback (decoded with the official OTLP definitions), an
// exporter that is down or hangs costs no request, the OTEL_* variables and
// tracing.* keys are honoured (the sampler live), secrets never leave in a
// span, and the request histogram links to traces for OpenMetrics scrapes.
import { sql } from 'kysely';
import { defineConfig, memorySource, secret } from 'smart-config';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { build, eventually, freshDatabase, listen, redisUrl } from './helper.ts';
import { closedUrl, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';

const SERVER = 2;
const CLIENT = 3;

async function receiver() {
  const r = await startOtlpReceiver();
  onTestFinished(() => r.close());
  return r;
}

/** The env of a service exporting to `url`, batches leaving every 20 ms. */
const otel = (url: string, extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_BSP_SCHEDULE_DELAY: '20',
  ...extra,
});

async function metricValue(app: Awaited<ReturnType<typeof build>>, line: RegExp): Promise<number> {
  const text = (await app.inject('/metrics')).body;
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').at(-1)) : Number.NaN;
}

describe('tracing: export', () => {
  it('is off without an exporter or endpoint: no span, no trace ids in log lines', async () => {
    const app = await build();
    app.get('/hello', async () => ({ hello: 'world' }));
    await app.inject('/hello');
    expect(app.tracingEnabled).toBe(false);
    const access = app.logs.find((line) => line.msg === 'request completed');
    expect(access).toBeDefined();
    expect(access).not.toHaveProperty('trace_id');
  });

  it('continues an incoming traceparent: the server span is its child, in the same trace', async () => {
    const r = await receiver();
    const app = await build({ env: otel(r.url) });
    app.get('/hello', async () => ({ hello: 'world' }));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await app.inject({ url: '/hello', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const [span] = await r.waitFor((spans) => spans.length >= 1);
    expect(span).toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7', name: 'GET /hello', kind: SERVER });
    expect(span?.resource['service.name']).toBe('test-service');
  });

  it('an exporter that is down fails no request; its spans are counted as dropped on /metrics', {
    timeout: 40_000,
  }, async () => {
    const app = await build({ env: otel(await closedUrl()) });
    app.get('/hello', async () => ({ hello: 'world' }));
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () => app.inject('/hello').then((r) => r.statusCode)),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    const dropped = /^tracing_spans_dropped_total\{reason="export_failed"/;
    // The OTLP exporter retries a refused export with back-off (~8 s in all) before it gives the batch up.
    await eventually(async () => (await metricValue(app, dropped)) === 40, 30_000);
  });

  it('an exporter that hangs fails no request; spans beyond the queue are dropped and counted, and close does not wait past its timeout', async () => {
    const r = await receiver();
    r.mode = 'hang';
    const app = await build({
      env: otel(r.url, {
        OTEL_BSP_MAX_QUEUE_SIZE: '10',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5',
        OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
        SMART_TRACING__SHUTDOWN_TIMEOUT_MS: '300',
      }),
    });
    app.get('/hello', async () => ({ hello: 'world' }));
    for (let i = 0; i < 60; i++) expect((await app.inject('/hello')).statusCode).toBe(200);
    expect(await metricValue(app, /^tracing_spans_dropped_total\{reason="queue_full"/)).toBeGreaterThan(0);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('flushes queued spans when the app closes', async () => {
    const r = await receiver();
    // Batches would leave only after 5 s; close sends them at once.
    const app = await build({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_BSP_SCHEDULE_DELAY: '5000' } });
    app.get('/hello', async () => ({ hello: 'world' }));
    await app.inject('/hello');
    await app.close();
    expect(r.spans.map((s) => s.name)).toEqual(['GET /hello']);
  });

  it('sends to Zipkin with one setting (tracing.exporter = zipkin)', async () => {
    const r = await receiver();
    const app = await build({
      env: {
        SMART_TRACING__EXPORTER: 'zipkin',
        SMART_TRACING__ZIPKIN_ENDPOINT: `${r.url}/api/v2/spans`,
        OTEL_BSP_SCHEDULE_DELAY: '20',
      },
    });
    app.get('/hello', async () => ({ hello: 'world' }));
    await app.inject('/hello');
    await eventually(() => r.raw.length > 0);
    const [span] = JSON.parse(String(r.raw[0])) as { name: string; localEndpoint: { serviceName: string } }[];
    expect(span).toMatchObject({ name: 'GET /hello', localEndpoint: { serviceName: 'test-service' } });
  });
});

describe('tracing: configuration', () => {
  it('honours OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, and explain() names them as the otel-env layer', async () => {
    const r = await receiver();
    const app = await build({
      env: otel(r.url, {
        OTEL_SERVICE_NAME: 'renamed',
        OTEL_RESOURCE_ATTRIBUTES: 'team=payments,service.name=ignored,cloud.region=eu%2Dwest',
      }),
    });
    app.get('/hello', async () => ({}));
    await app.inject('/hello');
    const [span] = await r.waitFor((spans) => spans.length >= 1);
    expect(span?.resource).toMatchObject({ 'service.name': 'renamed', team: 'payments', 'cloud.region': 'eu-west' });
    expect(app.smartConfig.explain('tracing.endpoint')[0]).toMatchObject({ value: r.url, source: 'otel-env' });
  });

  it('OTEL_SDK_DISABLED=true turns tracing off even with an endpoint', async () => {
    const r = await receiver();
    const app = await build({ env: otel(r.url, { OTEL_SDK_DISABLED: 'true' }) });
    expect(app.tracingEnabled).toBe(false);
  });

  it('the sampling ratio changes live (a new value from Atlas applies to the next request)', async () => {
    const r = await receiver();
    const atlas = memorySource('atlas', { tracing: { sampler: 'traceidratio', samplerArg: 0 } });
    const app = await build({ env: otel(r.url), sources: [atlas] });
    app.get('/hello', async () => ({}));
    for (let i = 0; i < 10; i++) await app.inject('/hello');
    atlas.set({ tracing: { sampler: 'traceidratio', samplerArg: 1 } });
    await eventually(() => app.config.tracing.samplerArg === 1);
    for (let i = 0; i < 3; i++) await app.inject({ url: '/hello', headers: { 'x-request-id': `sampled-${i}` } });
    await r.waitFor((spans) => spans.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.spans.map((s) => s.attributes['smart.request_id']).sort()).toEqual([
      'sampled-0',
      'sampled-1',
      'sampled-2',
    ]);
  });
});

describe('tracing: what spans hold', () => {
  it('never carries a secret: not from config, headers, the query string, query parameters or Redis arguments', async () => {
    const canary = {
      config: 'canary-config-7d1e',
      header: 'canary-header-0b9f',
      query: 'canary-query-55a2',
      param: 'canary-param-e3c4',
      redis: 'canary-redis-91ab',
    };
    const r = await receiver();
    const definition = defineConfig({
      schema: z.object({ apiToken: z.string() }),
      defaults: { apiToken: secret() },
    });
    const upstream = await build({ name: 'upstream', env: otel(r.url) });
    upstream.get('/echo', async () => ({ ok: true }));
    const app = await build({
      config: definition,
      db: true,
      redis: true,
      env: otel(r.url, {
        SMART_API_TOKEN: canary.config,
        SMART_DB__URL: await freshDatabase(),
        SMART_REDIS__URL: redisUrl(),
        SMART_SERVICE_UPSTREAM_URL: await listen(upstream),
      }),
    });
    app.get('/work', async () => {
      await sql`select ${canary.param}::text as v`.execute(app.db);
      await app.redis.set('tracing-test', canary.redis, 'EX', 10);
      await app.client.get('service://upstream/echo', {
        headers: { authorization: `Bearer ${app.config.apiToken.reveal()}` },
      });
      return { ok: true };
    });
    const res = await app.inject({
      url: `/work?token=${canary.query}`,
      headers: { authorization: `Bearer ${canary.header}`, 'x-api-key': canary.header, cookie: `s=${canary.header}` },
    });
    expect(res.statusCode).toBe(200);
    const spans = await r.waitFor((all) => all.some((s) => s.resource['service.name'] === 'upstream'));
    await app.close();
    const names = spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['GET /work', 'SELECT', 'SET', 'GET upstream', 'GET /echo']));
    const query = spans.find((s) => s.name === 'SELECT') as ReceivedSpan;
    expect(query.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.query.text': 'select $1::text as v' });
    expect(query.kind).toBe(CLIENT);
    const everything = Buffer.concat(r.raw).toString('latin1');
    for (const value of Object.values(canary)) expect(everything).not.toContain(value);
  });
});

describe('tracing: exemplars', () => {
  it('an OpenMetrics scrape links duration buckets to the trace ids of requests; the Prometheus scrape is unchanged', async () => {
    const r = await receiver();
    const app = await build({ env: otel(r.url) });
    app.get('/hello', async () => ({}));
    await app.inject('/hello');
    const [span] = await r.waitFor((spans) => spans.length >= 1);
    const open = await app.inject({
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(open.headers['content-type']).toContain('application/openmetrics-text');
    const bucket = open.body
      .split('\n')
      .find((line) => line.startsWith('http_request_duration_seconds_bucket') && line.includes('# {'));
    expect(bucket).toContain(`trace_id="${span?.traceId}"`);
    expect(bucket).toContain('route="/hello"');
    expect(open.body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(open.body).toContain('tracing_spans_exported_total');

    const plain = await app.inject('/metrics');
    expect(plain.headers['content-type']).toContain('text/plain');
    expect(plain.body).not.toContain('trace_id=');
    // The OpenMetrics scrape did not rename the service's counters.
    expect(plain.body).toMatch(/^tracing_spans_exported_total\{service="test-service"\} \d+$/m);
  });
});
