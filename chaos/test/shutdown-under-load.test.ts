import { createClient, envResolver } from 'smart-client';
import { describe, expect, it } from 'vitest';
import { report } from '../lib/figures.ts';
import { startService } from '../lib/service-process.ts';

const ROUNDS = 20;

describe('SIGTERM under keep-alive load', () => {
  it(`x${ROUNDS}: no smart-client call fails, every response after shutdown begins carries connection: close, exit 0`, async () => {
    const env: Record<string, string> = {};
    const client = createClient({ realm: 'testing', resolver: envResolver(env) });
    const steady = await startService({ CHAOS_NAME: 'chaos-steady' });
    let calls = 0;
    let failed = 0;
    let afterSigterm = 0;
    let withoutClose = 0;
    const exits: (number | null)[] = [];
    const failures: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const leaving = await startService({
          CHAOS_NAME: 'chaos-leaving',
          SMART_SHUTDOWN__DRAIN_DELAY_MS: '200',
          CHAOS_SLOW_MS: '150',
        });
        env.SMART_SERVICE_CHAOS_UPSTREAM_URL = `${leaving.base},${steady.base}`;
        const pid = String(leaving.child.pid);
        let sigtermAt = Number.POSITIVE_INFINITY;
        const end = Date.now() + 900;
        const loop = async () => {
          while (Date.now() < end) {
            const sentAt = Date.now();
            try {
              const res = await client.fetch('service://chaos-upstream/slow');
              await res.text();
              calls++;
              if (res.status !== 200) {
                failed++;
                failures.push(`status ${res.status}`);
              }
              if (res.headers.get('x-chaos-pid') === pid && sentAt > sigtermAt) {
                afterSigterm++;
                if (res.headers.get('connection') !== 'close') withoutClose++;
              }
            } catch (err) {
              calls++;
              failed++;
              failures.push((err as Error).message);
            }
          }
        };
        const running = Promise.all(Array.from({ length: 8 }, loop));
        await new Promise((resolve) => setTimeout(resolve, 300));
        sigtermAt = Date.now();
        leaving.child.kill('SIGTERM');
        await running;
        exits.push((await leaving.exited).code);
      }
    } finally {
      await client.close();
    }
    report('sigterm-under-keepalive-load', {
      rounds: ROUNDS,
      calls,
      failedCalls: failed,
      responsesAfterSigterm: afterSigterm,
      withoutConnectionClose: withoutClose,
      nonZeroExits: exits.filter((code) => code !== 0).length,
    });
    expect(failures.slice(0, 5)).toEqual([]);
    expect(failed).toBe(0);
    expect(afterSigterm).toBeGreaterThan(0);
    expect(withoutClose).toBe(0);
    expect(exits).toEqual(Array.from({ length: ROUNDS }, () => 0));
  });
});
