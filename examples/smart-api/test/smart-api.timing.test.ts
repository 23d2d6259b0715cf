// The hedged-request exercise end to end under the machinery `smart dev`
// uses. A timing test: it runs alone, after (or before) the rest of the suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DevSession, startDev } from 'smart-service/dev';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'smart-api-'));
const sessions: DevSession[] = [];

async function start(options: { services?: string[]; env?: Record<string, string> }) {
  const session = await startDev({
    root,
    watch: false,
    output: false,
    atlasDataDir: join(scratch, `atlas-${sessions.length}`),
    ...options,
  });
  sessions.push(session);
  await session.ready({ timeoutMs: 80_000 });
  return { session, api: session.services.get('api')?.url as string };
}

/** Sends `count` requests, `concurrency` at a time; each answer's status and the time it took. */
async function load(url: string, count: number, concurrency: number) {
  const results: { status: number; ms: number }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) {
        const started = performance.now();
        const res = await fetch(url);
        await res.arrayBuffer();
        results.push({ status: res.status, ms: performance.now() - started });
      }
    }),
  );
  return results;
}

afterAll(async () => {
  for (const session of sessions) await session.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('GET /api/smart', () => {
  it('validates timeout: a 400 problem when missing or not a positive integer', async () => {
    const { api } = await start({ env: { SMART_SIMULATOR__SLOW_PERCENT: '30', SMART_SIMULATOR__FAIL_PERCENT: '0' } });
    for (const query of ['', '?timeout=', '?timeout=0', '?timeout=-5', '?timeout=1.5', '?timeout=abc']) {
      const res = await fetch(`${api}/api/smart${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'SMART_API_BAD_TIMEOUT', service: 'api' });
    }
  });

  it('answers at least 99% of 200 requests within 1.1 s when the simulator is slow 30% of the time', async () => {
    const api = sessions[0]?.services.get('api')?.url as string;
    const results = await load(`${api}/api/smart?timeout=1000`, 200, 10);
    const good = results.filter((r) => r.status === 200 && r.ms <= 1_100).length;
    expect(results).toHaveLength(200);
    expect(good / results.length).toBeGreaterThanOrEqual(0.99);
    const body = await (await fetch(`${api}/api/smart?timeout=1000`)).json();
    expect(body).toMatchObject({ time: expect.any(Number), api: { time: expect.any(Number) } });
  });

  it('answers 503 within timeout + 50 ms while the simulator hangs', async () => {
    const session = sessions[0] as DevSession;
    const pid = session.services.get('simulator')?.pid as number;
    process.kill(pid, 'SIGSTOP'); // alive and registered, answering nothing
    try {
      const results = await load(`${session.services.get('api')?.url}/api/smart?timeout=500`, 20, 5);
      for (const r of results) {
        expect(r.status).toBe(503);
        expect(r.ms).toBeLessThanOrEqual(550);
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('answers 503 within timeout + 50 ms when the simulator is not running', async () => {
    const { api } = await start({ services: ['api'] });
    for (const timeout of [100, 400, 1000]) {
      const results = await load(`${api}/api/smart?timeout=${timeout}`, 10, 5);
      for (const r of results) {
        expect(r.status).toBe(503);
        expect(r.ms).toBeLessThanOrEqual(timeout + 50);
      }
    }
    const res = await fetch(`${api}/api/smart?timeout=100`);
    expect(await res.json()).toMatchObject({ status: 503, code: 'SMART_API_UPSTREAM_UNAVAILABLE' });
  });
});
