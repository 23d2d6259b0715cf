// Which span is active where: the request's span through the request's own
// async context (shared with currentRequest()), a span of your own entered
// inside it, concurrent requests kept apart, and spans entered outside any
// request (jobs, start-up work). Checked on what an OTLP receiver gets.
import { context, trace } from '@opentelemetry/api';
import { describe, expect, it, onTestFinished } from 'vitest';
import { currentRequest } from '../src/index.ts';
import { build } from './helper.ts';
import { type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';

async function tracedApp() {
  const r = await startOtlpReceiver();
  onTestFinished(() => r.close());
  const app = await build({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_BSP_SCHEDULE_DELAY: '20' } });
  return { r, app };
}

const named = (spans: readonly ReceivedSpan[], name: string) => spans.find((s) => s.name === name) as ReceivedSpan;

describe('tracing: the active span', () => {
  it("inside a request: your span is the request span's child, its children are its own, and the request's span is active again after it", async () => {
    const { r, app } = await tracedApp();
    let sameRequest = false;
    app.get('/work', async (request) => {
      await app.tracer.startActiveSpan('compute', async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        sameRequest = currentRequest() === request;
        app.tracer.startSpan('inner').end();
        span.end();
      });
      app.tracer.startSpan('after').end();
      return { ok: true };
    });
    expect((await app.inject('/work')).statusCode).toBe(200);
    const spans = await r.waitFor((all) => all.length >= 4);
    const root = named(spans, 'GET /work');
    expect(root.parentSpanId).toBeUndefined();
    expect(named(spans, 'compute').parentSpanId).toBe(root.spanId);
    expect(named(spans, 'inner').parentSpanId).toBe(named(spans, 'compute').spanId);
    expect(named(spans, 'after').parentSpanId).toBe(root.spanId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    expect(sameRequest).toBe(true);
    const access = app.logs.find((line) => line.msg === 'request completed');
    expect(access).toMatchObject({ trace_id: root.traceId, span_id: root.spanId });
  });

  it('keeps concurrent requests apart: each one’s spans are children of its own request span', async () => {
    const { r, app } = await tracedApp();
    app.get('/step/:n', async (request) => {
      const { n } = request.params as { n: string };
      await new Promise((resolve) => setTimeout(resolve, 20 - Number(n) * 2));
      app.tracer.startSpan(`step ${n}`).end();
      return { n };
    });
    await Promise.all(Array.from({ length: 8 }, (_, n) => app.inject(`/step/${n}`)));
    const spans = await r.waitFor((all) => all.length >= 16);
    const servers = spans.filter((s) => s.name === 'GET /step/:n');
    for (let n = 0; n < 8; n++) {
      const step = named(spans, `step ${n}`);
      const server = servers.find((s) => s.spanId === step.parentSpanId);
      expect(server?.attributes['url.path']).toBe(`/step/${n}`);
      expect(step.traceId).toBe(server?.traceId);
    }
  });

  it('outside a request (a job, start-up work): a span entered with context.with is the parent of spans made in it', async () => {
    const { r, app } = await tracedApp();
    const job = app.tracer.startSpan('nightly-job');
    await context.with(trace.setSpan(context.active(), job), async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      app.tracer.startSpan('step').end();
    });
    job.end();
    app.tracer.startSpan('unrelated').end();
    const spans = await r.waitFor((all) => all.length >= 3);
    expect(named(spans, 'step').parentSpanId).toBe(named(spans, 'nightly-job').spanId);
    expect(named(spans, 'unrelated').parentSpanId).toBeUndefined();
  });
});
