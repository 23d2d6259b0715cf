// The three services on loopback in one process (the gateway finds fizz and
// buzz through SMART_SERVICE_<NAME>_URL, no Atlas): fast checks of the
// combination and of what each service refuses.
import type { SmartService } from 'smart-service';
import { captureLogs } from 'smart-service/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build as buildBuzz } from '../buzz/src/app.ts';
import { build as buildFizz } from '../fizz/src/app.ts';
import { build as buildGateway } from '../gateway/src/app.ts';

/** The reference, computed here without any service. */
const reference = (n: number) => (n % 15 === 0 ? 'FizzBuzz' : n % 3 === 0 ? 'Fizz' : n % 5 === 0 ? 'Buzz' : String(n));

const listen = (app: SmartService) => app.listen({ port: 0, host: '127.0.0.1' });

async function system() {
  const logs = { fizz: captureLogs(), buzz: captureLogs() };
  const fizz = await buildFizz({ realm: 'testing', env: {}, logDestination: logs.fizz.stream });
  const buzz = await buildBuzz({ realm: 'testing', env: {}, logDestination: logs.buzz.stream });
  const gateway = await buildGateway({
    realm: 'testing',
    env: { SMART_SERVICE_FIZZ_URL: await listen(fizz), SMART_SERVICE_BUZZ_URL: await listen(buzz) },
    logDestination: captureLogs().stream,
  });
  onTestFinished(async () => {
    await gateway.close();
    await fizz.close();
    await buzz.close();
  });
  return { fizz, buzz, url: await listen(gateway), logs: { fizz: logs.fizz.lines, buzz: logs.buzz.lines } };
}

describe('FizzBuzz services', () => {
  it('combine fizz and buzz into FizzBuzz for 1..100, one number at a time and as a range', async () => {
    const { url } = await system();
    const expected = Array.from({ length: 100 }, (_, i) => reference(i + 1));
    const one = await Promise.all(
      expected.map(
        async (_, i) => ((await (await fetch(`${url}/fizzbuzz/${i + 1}`)).json()) as { answer: string }).answer,
      ),
    );
    expect(one).toEqual(expected);
    expect(await (await fetch(`${url}/fizzbuzz?from=1&to=100`)).json()).toEqual(expected);
    expect(await (await fetch(`${url}/fizzbuzz?from=999999990&to=999999999`)).json()).toEqual(
      Array.from({ length: 10 }, (_, i) => reference(999_999_990 + i)),
    );
  });

  it('ask fizz and buzz under the caller’s request id and trace, each call a new span of it', async () => {
    const { url, logs } = await system();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`${url}/fizzbuzz/30`, {
      headers: { 'x-request-id': 'fb-1', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    for (const lines of [logs.fizz, logs.buzz]) {
      expect(lines.find((l) => l.requestId === 'fb-1' && l.trace)).toMatchObject({ caller: 'gateway', trace: traceId });
    }
  });

  it('refuse what is not a whole number from 1 with a 400 problem, at the gateway and at fizz and buzz', async () => {
    const { fizz, buzz, url } = await system();
    for (const path of [
      '/fizzbuzz/0',
      '/fizzbuzz/x',
      '/fizzbuzz/1.5',
      '/fizzbuzz?from=5&to=1',
      '/fizzbuzz?from=1&to=20000',
      '/fizzbuzz',
    ]) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'FIZZBUZZ_BAD_RANGE', service: 'gateway' });
    }
    for (const [app, path] of [
      [fizz, '/fizz/-3'],
      [buzz, '/buzz?from=a&to=3'],
    ] as const) {
      const res = await app.inject(path);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'FIZZBUZZ_BAD_RANGE' });
    }
  });
});
