// FizzBuzz as a Service end to end under the machinery `smart dev` uses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DevSession, startDev } from 'smart-dev';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The reference, computed here without any service. */
const reference = (n: number) => (n % 15 === 0 ? 'FizzBuzz' : n % 3 === 0 ? 'Fizz' : n % 5 === 0 ? 'Buzz' : String(n));

const scratch = mkdtempSync(join(tmpdir(), 'fizzbuzz-'));
let session: DevSession;
const gateway = () => session.services.get('gateway')?.url as string;

beforeAll(async () => {
  session = await startDev({
    root: resolve(import.meta.dirname, '..'),
    watch: false,
    output: false,
    atlasDataDir: join(scratch, 'atlas'),
    env: { SMART_HTTP__PORT: '0' }, // free ports: the manifest gives the gateway 8090 for the README
  });
  await session.ready({ timeoutMs: 80_000 });
});

afterAll(async () => {
  await session?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('FizzBuzz as a Service', () => {
  it('answers 1..100 correctly, one number at a time, fizz and buzz asked in parallel', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await fetch(`${gateway()}/fizzbuzz/${i + 1}`);
        expect(res.status).toBe(200);
        return ((await res.json()) as { answer: string }).answer;
      }),
    );
    expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => reference(i + 1)));
  });

  it('answers the range 1..100 in one call', async () => {
    const res = await fetch(`${gateway()}/fizzbuzz?from=1&to=100`);
    expect(await res.json()).toEqual(Array.from({ length: 100 }, (_, i) => reference(i + 1)));
  });

  it('refuses a bad number with a 400 problem', async () => {
    for (const path of ['/fizzbuzz/0', '/fizzbuzz/x', '/fizzbuzz?from=5&to=1']) {
      const res = await fetch(`${gateway()}${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'FIZZBUZZ_BAD_RANGE', service: 'gateway' });
    }
  });

  it('shows one request id in the gateway, fizz and buzz logs, and one trace: the caller’s', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${gateway()}/fizzbuzz/15`, {
      headers: { 'x-request-id': 'fizzbuzz-trace-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    await new Promise((done) => setTimeout(done, 300));
    for (const service of ['gateway', 'fizz', 'buzz']) {
      expect(
        session.logs(service).some((l) => l.json?.requestId === 'fizzbuzz-trace-1'),
        service,
      ).toBe(true);
    }
    for (const service of ['fizz', 'buzz']) {
      const asked = session.logs(service).find((l) => l.json?.requestId === 'fizzbuzz-trace-1' && l.json.trace);
      expect(asked?.json, service).toMatchObject({ caller: 'gateway', trace: traceId });
    }
  });
});
