// api and the simulator as real services on loopback (api finds the
// simulator through SMART_SERVICE_SIMULATOR_URL): the strategy's shape,
// with the simulator set to one behaviour at a time.
import type { SmartService } from 'smart-service';
import { captureLogs } from 'smart-service/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build as buildApi, parseTimeout } from '../api/src/app.ts';
import { build as buildSimulator } from '../simulator/src/app.ts';

/** What /api/smart answers: `{ time, api }`, or a problem with `attempts`. */
interface Answer {
  time: number;
  api: { time: number; slow: boolean };
  code: string;
  detail: string;
  attempts: { attempt: number; outcome: string; code?: string }[];
}

const listen = (app: SmartService) => app.listen({ port: 0, host: '127.0.0.1' });

/** The simulator configured by `env` (SMART_SIMULATOR__*), and api calling it; both closed after the test. */
async function system(env: Record<string, string>) {
  const simulatorLogs = captureLogs();
  const simulator = await buildSimulator({ realm: 'testing', env, logDestination: simulatorLogs.stream });
  onTestFinished(() => simulator.close());
  const api = await buildApi({
    realm: 'testing',
    env: { SMART_SERVICE_SIMULATOR_URL: await listen(simulator) },
    logDestination: captureLogs().stream,
  });
  onTestFinished(() => api.close());
  const url = await listen(api);
  /** One call: status, body and the time it took (ms). */
  const call = async (timeout: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/api/smart?timeout=${timeout}`);
    return { status: res.status, body: (await res.json()) as Answer, ms: performance.now() - started };
  };
  return { call, simulatorLogs: simulatorLogs.lines };
}

const aborted = (lines: Record<string, unknown>[]) => lines.filter((l) => l.status === 499).length;

describe('GET /api/smart', () => {
  it('takes timeout as a required whole number of ms, 1 to 60000', () => {
    expect(parseTimeout('1')).toBe(1);
    expect(parseTimeout('60000')).toBe(60_000);
    for (const bad of [undefined, '', '0', '-5', '1.5', 'abc', '1e3', '60001', ['100', '200']]) {
      expect(() => parseTimeout(bad), String(bad)).toThrow(
        expect.objectContaining({ code: 'SMART_API_BAD_TIMEOUT', statusCode: 400 }),
      );
    }
  });

  it('answers a fast upstream at once with { time, api }, in one attempt', async () => {
    const { call, simulatorLogs } = await system({
      SMART_SIMULATOR__SLOW_PERCENT: '0',
      SMART_SIMULATOR__FAIL_PERCENT: '0',
    });
    const answer = await call('1000');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ time: expect.any(Number), api: { time: expect.any(Number), slow: false } });
    expect(answer.body.time).toBeLessThan(300);
    expect(simulatorLogs.filter((l) => l.msg === 'request completed')).toHaveLength(1);
  });

  it('cuts a slow first attempt at 300 ms, sends two at once, takes the first answer and cancels the other', async () => {
    // Every answer takes 400-450 ms: the first attempt is cut, one of the two after it wins.
    const { call, simulatorLogs } = await system({
      SMART_SIMULATOR__SLOW_PERCENT: '100',
      SMART_SIMULATOR__FAIL_PERCENT: '0',
      SMART_SIMULATOR__SLOW_MS: '[400,450]',
    });
    // Both apps share this test's event loop, so when the two answers of the
    // second round land within a few ms of each other (a photo finish), the
    // loser's answer can be written before its closed connection is seen:
    // such a run shows nothing about cancelling, and is sent again (at most 5 times).
    for (let run = 1; ; run++) {
      const before = simulatorLogs.length;
      const answer = await call('1000');
      expect(answer.status).toBe(200);
      expect(answer.body.api).toMatchObject({ slow: true });
      expect(answer.body.time).toBeGreaterThanOrEqual(700); // 300 for the first, then ~400 for the winner
      expect(answer.body.time).toBeLessThan(1000);
      await new Promise((done) => setTimeout(done, 500)); // every attempt has ended at the simulator
      const ended = simulatorLogs.slice(before).filter((line) => typeof line.status === 'number');
      const answered = ended.filter((line) => line.status === 200).map((line) => line.durationMs as number);
      const photoFinish = answered.length === 2 && Math.abs((answered[0] ?? 0) - (answered[1] ?? 0)) < 30;
      if (photoFinish && run < 5) continue;
      // The simulator saw three calls: two went away before their answer (the first at 300 ms, the loser).
      expect(ended).toHaveLength(3);
      expect(aborted(ended)).toBe(2);
      break;
    }
  });

  it('answers 503 with what became of each attempt when the upstream only fails', async () => {
    const { call } = await system({ SMART_SIMULATOR__SLOW_PERCENT: '0', SMART_SIMULATOR__FAIL_PERCENT: '100' });
    const answer = await call('1000');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'SMART_API_UPSTREAM_UNAVAILABLE', service: 'api' });
    const { attempts } = answer.body;
    expect(attempts.map((a) => a.attempt).sort()).toEqual([1, 2, 3]);
    expect(attempts.every((a) => a.outcome === 'failed' && a.code === 'SMART_CLIENT_REMOTE_ERROR')).toBe(true);
    expect(answer.body.detail).toMatch(/^no good answer from the upstream within 1000 ms: attempt 1 failed/);
  });

  it('gives up at timeout when the upstream is slower than it, saying which attempts timed out', async () => {
    const { call } = await system({
      SMART_SIMULATOR__SLOW_PERCENT: '100',
      SMART_SIMULATOR__FAIL_PERCENT: '0',
      SMART_SIMULATOR__SLOW_MS: '[2000,2000]',
    });
    for (const [timeout, count] of [
      ['200', 1], // the whole budget goes to the first attempt: no time is left for two more
      ['600', 3],
    ] as const) {
      const answer = await call(timeout);
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeGreaterThanOrEqual(Number(timeout) - 5);
      expect(answer.ms).toBeLessThan(Number(timeout) + 200); // generous here; the timing test holds it to 50 ms
      const { attempts } = answer.body;
      expect(attempts).toHaveLength(count);
      expect(attempts.every((a) => a.outcome === 'timeout')).toBe(true);
    }
  });
});
