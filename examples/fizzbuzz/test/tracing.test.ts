// The tracing demo FizzBuzz exists for: the three services on loopback export
// their spans over OTLP/HTTP to a receiver in this test, which decodes them
// with the official OTLP definitions, as a collector would.
import type { SmartService } from 'smart-service';
import { captureLogs } from 'smart-service/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ReceivedSpan, startOtlpReceiver } from '../../../packages/smart-service/test/otlp-receiver.ts';
import { build as buildBuzz } from '../buzz/src/app.ts';
import { build as buildFizz } from '../fizz/src/app.ts';
import { build as buildGateway } from '../gateway/src/app.ts';

const listen = (app: SmartService) => app.listen({ port: 0, host: '127.0.0.1' });

async function tracedSystem(protocol: 'http/protobuf' | 'http/json') {
  const receiver = await startOtlpReceiver();
  // What smart dev (or a deployment) sets: the standard OTEL_* variables.
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
  const logs = { gateway: captureLogs(), fizz: captureLogs(), buzz: captureLogs() };
  const fizz = await buildFizz({ realm: 'testing', env: otel, logDestination: logs.fizz.stream });
  const buzz = await buildBuzz({ realm: 'testing', env: otel, logDestination: logs.buzz.stream });
  const gateway = await buildGateway({
    realm: 'testing',
    env: { ...otel, SMART_SERVICE_FIZZ_URL: await listen(fizz), SMART_SERVICE_BUZZ_URL: await listen(buzz) },
    logDestination: logs.gateway.stream,
  });
  onTestFinished(async () => {
    await gateway.close();
    await fizz.close();
    await buzz.close();
    await receiver.close();
  });
  return { receiver, url: await listen(gateway), gateway, logs };
}

const serviceOf = (span: ReceivedSpan) => span.resource['service.name'];
const SERVER = 2;
const CLIENT = 3;

/** The one span matching, failing with what arrived when there is not exactly one. */
function one(spans: ReceivedSpan[], match: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(match);
  expect(found, JSON.stringify(spans.map((s) => `${serviceOf(s)} ${s.name}`))).toHaveLength(1);
  return found[0] as ReceivedSpan;
}

describe('FizzBuzz traces', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`one request without traceparent is one trace across gateway, fizz and buzz, with parent links (${protocol})`, async () => {
      const { receiver, url } = await tracedSystem(protocol);
      const res = await fetch(`${url}/fizzbuzz/15`);
      expect(await res.json()).toEqual({ n: 15, answer: 'FizzBuzz' });

      // 3 server spans, 2 call spans and 2 attempt spans.
      const spans = await receiver.waitFor((all) => all.length >= 7);
      expect(new Set(spans.map((s) => s.encoding))).toEqual(new Set([protocol === 'http/json' ? 'json' : 'protobuf']));
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);

      const root = one(spans, (s) => serviceOf(s) === 'gateway' && s.kind === SERVER);
      expect(root.parentSpanId).toBeUndefined();
      expect(root.name).toBe('GET /fizzbuzz/:n');
      expect(root.attributes).toMatchObject({
        'http.route': '/fizzbuzz/:n',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      });
      expect(root.resource).toMatchObject({ 'deployment.environment.name': 'testing', 'service.version': '1.0.0' });
      expect(root.resource['service.instance.id']).toEqual(expect.any(String));

      for (const target of ['fizz', 'buzz']) {
        const call = one(
          spans,
          (s) => serviceOf(s) === 'gateway' && s.attributes['smart.target'] === target && s.kind !== CLIENT,
        );
        const attempt = one(
          spans,
          (s) => serviceOf(s) === 'gateway' && s.kind === CLIENT && s.name.includes(` ${target} `),
        );
        const server = one(spans, (s) => serviceOf(s) === target && s.kind === SERVER);
        // gateway request -> call -> attempt -> the upstream's request
        expect(call.parentSpanId).toBe(root.spanId);
        expect(attempt.parentSpanId).toBe(call.spanId);
        expect(server.parentSpanId).toBe(attempt.spanId);
        expect(attempt.attributes).toMatchObject({
          'smart.attempt.kind': 'first',
          'smart.attempt.outcome': 'ok',
          'http.response.status_code': 200,
          'server.address': '127.0.0.1',
        });
        expect(server.attributes['http.route']).toBe(`/${target}/:n`);
      }
    });
  }

  it('log lines of a request carry the trace and span ids its spans have', async () => {
    const { receiver, url, logs } = await tracedSystem('http/protobuf');
    await fetch(`${url}/fizzbuzz/9`, { headers: { 'x-request-id': 'fb-logs' } });
    const spans = await receiver.waitFor((all) => all.filter((s) => s.kind === SERVER).length >= 3);
    for (const [service, lines] of Object.entries(logs)) {
      const server = one(spans, (s) => serviceOf(s) === service && s.kind === SERVER);
      const mine = lines.lines.filter((line) => line.requestId === 'fb-logs');
      expect(mine.length, service).toBeGreaterThan(0);
      for (const line of mine)
        expect(line, service).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
    }
  });
});
