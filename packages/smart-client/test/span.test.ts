// The call and attempt spans as a trace viewer shows them: every attempt a
// child of its call, with its kind, instance, outcome and why it was given
// up, and the upstream told (traceparent) which attempt it is serving.
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createClient, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

/** Runs `fn` inside a span playing the incoming request's; returns that span. */
async function inRequest(fn: () => Promise<unknown>): Promise<Span> {
  exporter.reset();
  return tracer.startActiveSpan('request', async (span) => {
    await fn();
    span.end();
    return span;
  });
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const attempts = () =>
  exporter
    .getFinishedSpans()
    .filter((s) => s.attributes['smart.attempt.number'] !== undefined)
    .sort((a, b) => Number(a.attributes['smart.attempt.number']) - Number(b.attributes['smart.attempt.number']));
const calls = () => exporter.getFinishedSpans().filter((s) => s.attributes['smart.target'] !== undefined);

describe('call and attempt spans', () => {
  it('without a tracer given, go to the registered provider: the call INTERNAL, its attempts CLIENT, a 5xx an error on both', async () => {
    const failing = await upstream((_req, res) => json(res, 503, { down: true }));
    trace.setGlobalTracerProvider(provider);
    onTestFinished(() => trace.disable());
    const c = createClient({ resolver: staticResolver({ api: [failing.url] }) });
    onTestFinished(() => c.close());
    await inRequest(() => c.get('service://api/x').catch(() => undefined));
    const [call] = calls();
    expect(call?.kind).toBe(SpanKind.INTERNAL);
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts().length).toBeGreaterThan(0); // retried: one span each
    for (const attempt of attempts())
      expect([attempt.kind, attempt.status.code]).toEqual([SpanKind.CLIENT, SpanStatusCode.ERROR]);
  });

  it('a hedged call: both attempts are children of the call span, the loser marked cancelled; each upstream saw its attempt as parent', async () => {
    const slow = await upstream((_req, res) => {
      const timer = setTimeout(() => json(res, 200, { from: 'slow' }), 1_000);
      res.on('close', () => clearTimeout(timer));
    });
    const fast = await upstream((_req, res) => json(res, 200, { from: 'fast' }));
    const c = createClient({
      resolver: staticResolver({ api: [slow.url, fast.url] }),
      balancing: 'round-robin',
      tracer,
    });
    onTestFinished(() => c.close());

    const request = await inRequest(() => c.get('service://api/x', { hedge: { delayMs: 50, cancelLoser: true } }));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the loser's span ends when its abort lands
    const [call] = calls();
    expect(call?.name).toBe('GET api');
    expect(parentOf(call as ReadableSpan)).toBe(request.spanContext().spanId);
    const [first, hedge] = attempts();
    for (const attempt of [first, hedge]) {
      expect(parentOf(attempt as ReadableSpan)).toBe(call?.spanContext().spanId);
      expect(attempt?.spanContext().traceId).toBe(request.spanContext().traceId);
    }
    expect(first?.attributes).toMatchObject({
      'smart.attempt.kind': 'first',
      'smart.attempt.outcome': 'abandoned',
      'smart.attempt.cancelled': true,
      'smart.attempt.abandoned': 'cancelled: attempt 2 answered first',
      'smart.instance': slow.url,
    });
    expect(hedge?.attributes).toMatchObject({
      'smart.attempt.kind': 'hedge',
      'smart.attempt.outcome': 'ok',
      'http.response.status_code': 200,
      'smart.instance': fast.url,
      'server.address': '127.0.0.1',
    });
    const traceId = request.spanContext().traceId;
    expect(slow.seen[0]?.headers.traceparent).toBe(`00-${traceId}-${first?.spanContext().spanId}-01`);
    expect(fast.seen[0]?.headers.traceparent).toBe(`00-${traceId}-${hedge?.spanContext().spanId}-01`);
  });

  it('a retried call: the failed attempt and the retry are spans of their own, each saying how it ended', async () => {
    const failing = await upstream((_req, res) => json(res, 503, {}));
    const healthy = await upstream((_req, res) => json(res, 200, {}));
    const c = createClient({
      resolver: staticResolver({ api: [failing.url, healthy.url] }),
      balancing: 'round-robin',
      retry: { baseMs: 1, capMs: 1 },
      tracer,
    });
    onTestFinished(() => c.close());
    await inRequest(() => c.get('service://api/x'));
    expect(attempts().map((s) => [s.attributes['smart.attempt.kind'], s.attributes['smart.attempt.outcome']])).toEqual([
      ['first', 'error'],
      ['retry', 'ok'],
    ]);
    expect(calls()[0]?.attributes).toMatchObject({ 'smart.attempts': 2, 'http.response.status_code': 200 });
  });

  it('an attempt cut by the deadline says so', async () => {
    const hanging = await upstream(() => {});
    const c = createClient({ resolver: staticResolver({ api: [hanging.url] }), tracer });
    onTestFinished(() => c.close());
    await inRequest(() => c.get('service://api/x', { timeout: 100 }).catch(() => {}));
    expect(attempts()[0]?.attributes).toMatchObject({
      'smart.attempt.outcome': 'abandoned',
      'smart.attempt.abandoned': 'deadline',
    });
    expect(calls()[0]?.attributes['error.type']).toBe('SMART_CLIENT_DEADLINE_EXCEEDED');
  });

  it('parallel calls of one request share its trace and are children of its span', async () => {
    const api = await upstream((_req, res) => json(res, 200, {}));
    const c = createClient({ resolver: staticResolver({ fizz: [api.url], buzz: [api.url] }), tracer });
    onTestFinished(() => c.close());
    const request = await inRequest(() => Promise.all([c.get('service://fizz/3'), c.get('service://buzz/3')]));
    const traceIds = new Set(api.seen.map((req) => String(req.headers.traceparent).split('-')[1]));
    expect(traceIds).toEqual(new Set([request.spanContext().traceId]));
    expect(calls().map((s) => parentOf(s))).toEqual([request.spanContext().spanId, request.spanContext().spanId]);
  });

  it('without an SDK no span is made and the call carries the context’s trace (propagation layer)', async () => {
    const api = await upstream((_req, res) => json(res, 200, {}));
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const c = createClient({
      resolver: staticResolver({ api: [api.url] }),
      context: () => ({ traceparent: `00-${traceId}-b7ad6b7169203331-01` }),
    });
    onTestFinished(() => c.close());
    exporter.reset();
    await c.get('service://api/x');
    await c.get('service://api/x');
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(trace.getActiveSpan()).toBeUndefined();
    const parents = api.seen.map((req) => String(req.headers.traceparent).split('-'));
    expect(parents.map((p) => p[1])).toEqual([traceId, traceId]);
    expect(parents[0]?.[2]).not.toBe(parents[1]?.[2]);
  });
});
