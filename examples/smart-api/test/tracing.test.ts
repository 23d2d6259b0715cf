// The improvements the exercise asked for, seen as its users would: every
// attempt at the upstream a span in the trace (the cancelled loser marked),
// and the upstream's outcomes counted on api's /metrics.
import type { SmartService } from 'smart-service';
import { captureLogs } from 'smart-service/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startOtlpReceiver } from '../../../packages/smart-service/test/otlp-receiver.ts';
import { build as buildApi } from '../api/src/app.ts';
import { build as buildSimulator } from '../simulator/src/app.ts';

const listen = (app: SmartService) => app.listen({ port: 0, host: '127.0.0.1' });

async function traced(simulatorEnv: Record<string, string>) {
  const receiver = await startOtlpReceiver();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' };
  const simulator = await buildSimulator({
    realm: 'testing',
    env: { ...otel, ...simulatorEnv },
    logDestination: captureLogs().stream,
  });
  const api = await buildApi({
    realm: 'testing',
    env: { ...otel, SMART_SERVICE_SIMULATOR_URL: await listen(simulator) },
    logDestination: captureLogs().stream,
  });
  onTestFinished(async () => {
    await api.close();
    await simulator.close();
    await receiver.close();
  });
  return { receiver, api, url: await listen(api) };
}

const counted = async (api: SmartService, outcome: string) => {
  const line = (await api.inject('/metrics')).body
    .split('\n')
    .find((l) => l.startsWith(`smart_api_upstream_attempts_total{outcome="${outcome}"`));
  return Number(line?.split(' ').at(-1));
};

describe('the smart API, traced and counted', () => {
  it('a slow upstream: attempt 1 times out, 2 and 3 race, the loser is a span marked cancelled; each outcome is counted', async () => {
    const { receiver, api, url } = await traced({
      SMART_SIMULATOR__SLOW_PERCENT: '100',
      SMART_SIMULATOR__FAIL_PERCENT: '0',
      SMART_SIMULATOR__SLOW_MS: '[400,400]',
    });
    const res = await fetch(`${url}/api/smart?timeout=2000`);
    expect(res.status).toBe(200);

    const spans = await receiver.waitFor(
      (all) => all.filter((s) => String(s.name).startsWith('upstream attempt')).length >= 3,
    );
    const attempt = (n: number) => spans.find((s) => s.name === `upstream attempt ${n}`);
    const root = spans.find((s) => s.name === 'GET /api/smart');
    expect(attempt(1)?.attributes).toMatchObject({
      'smart_api.outcome': 'timeout',
      'error.type': 'SMART_CLIENT_DEADLINE_EXCEEDED',
    });
    for (const n of [1, 2, 3]) {
      expect(attempt(n)?.parentSpanId).toBe(root?.spanId);
      expect(attempt(n)?.traceId).toBe(root?.traceId);
    }
    const second = [attempt(2), attempt(3)].map((s) => s?.attributes['smart_api.outcome']).sort();
    expect(second).toEqual(['cancelled', 'ok']);
    const loser = [attempt(2), attempt(3)].find((s) => s?.attributes['smart_api.outcome'] === 'cancelled');
    expect(loser?.attributes['smart_api.cancelled']).toBe(true);
    // The client's call under each attempt, and the simulator's request under that.
    const call = spans.find((s) => s.parentSpanId === loser?.spanId && s.attributes['smart.target'] === 'simulator');
    expect(call).toBeDefined();

    expect(await counted(api, 'timeout')).toBe(1);
    expect(await counted(api, 'success')).toBe(1);
    expect(await counted(api, 'cancelled')).toBe(1);
  });

  it('an upstream that fails: its error answers are counted as error, one that is gone as unavailable', async () => {
    const failing = await traced({ SMART_SIMULATOR__FAIL_PERCENT: '100' });
    expect((await fetch(`${failing.url}/api/smart?timeout=1000`)).status).toBe(503);
    // The answer can go out before the last attempt's outcome is counted.
    await expect.poll(() => counted(failing.api, 'error')).toBe(3);

    const api = await buildApi({
      realm: 'testing',
      env: { SMART_SERVICE_SIMULATOR_URL: 'http://127.0.0.1:9' },
      logDestination: captureLogs().stream,
    });
    onTestFinished(() => api.close());
    expect((await api.inject('/api/smart?timeout=500')).statusCode).toBe(503);
    await expect.poll(() => counted(api, 'unavailable')).toBe(3);
  });
});
