import { describe, expect, it } from 'vitest';
import { quantile, report } from '../lib/figures.ts';
import { runLoad } from '../lib/load.ts';
import { startService } from '../lib/service-process.ts';

const USUAL = 4;

describe('overload', () => {
  it('3x the usual concurrency: the excess is shed (503 + Retry-After, decided in < 5 ms), probes still answer', async () => {
    const service = await startService({
      CHAOS_NAME: 'chaos-overload',
      CHAOS_WORK_MS: '5',
      SMART_LOG__LEVEL: 'info',
      SMART_PROTECTION__SHEDDING__ENABLED: 'true',
      SMART_PROTECTION__SHEDDING__MAX_EVENT_LOOP_DELAY_MS: '20',
      SMART_PROTECTION__SHEDDING__MAX_EVENT_LOOP_UTILIZATION: '0.9',
      SMART_PROTECTION__SHEDDING__SAMPLE_INTERVAL_MS: '50',
    });
    const url = `${service.base}/work`;
    await runLoad({ url, concurrency: USUAL, durationMs: 1_000 });
    const usual = await runLoad({ url, concurrency: USUAL, durationMs: 3_000, pauseMs: 10 });
    const linesBefore = service.lines.length;
    const probing = runLoad({ url: `${service.base}/health/live`, concurrency: 1, durationMs: 5_000, pauseMs: 100 });
    const overload = await runLoad({ url, concurrency: USUAL * 3, durationMs: 5_000 });
    const probes = await probing;
    const shedLines = service.lines
      .slice(linesBefore)
      .filter((line) => line.msg === 'request completed' && line.status === 503);
    const accepted = overload.filter((o) => o.status === 200);
    const shed = overload.filter((o) => o.status === 503);
    const figures = {
      usualRequests: usual.length,
      usual_p99_ms: quantile(
        usual.map((o) => o.ms),
        0.99,
      ),
      overloadRequests: overload.length,
      accepted: accepted.length,
      shed: shed.length,
      accepted_p99_ms: quantile(
        accepted.map((o) => o.ms),
        0.99,
      ),
      shed_server_p99_ms: quantile(
        shedLines.map((line) => Number(line.durationMs)),
        0.99,
      ),
      shed_client_p50_ms: quantile(
        shed.map((o) => o.ms),
        0.5,
      ),
      other5xx:
        overload.filter((o) => o.status >= 500 && o.status !== 503).length + overload.filter((o) => !o.status).length,
      probes: probes.length,
      probesNot200: probes.filter((o) => o.status !== 200).length,
      acceptedP99OverUsual: 0,
    };
    figures.acceptedP99OverUsual = figures.accepted_p99_ms / figures.usual_p99_ms;
    report('overload-3x', figures);
    expect(figures.other5xx).toBe(0);
    expect(shed.length).toBeGreaterThan(0);
    expect(shed.every((o) => o.code === 'SMART_SERVICE_OVERLOADED' && o.headers['retry-after'] === '1')).toBe(true);
    expect(figures.shed_server_p99_ms).toBeLessThan(5);
    expect(figures.probesNot200).toBe(0);
    // accepted_p99 / usual_p99 is printed, not asserted: on a shared 2-core
    // machine, with the load generator on the same cores, it measures the
    // machine's load as much as the shedding (see chaos/README.md).
  });
});
