// A timing test: it runs in the \`timing\` project, after every other test file
// and alone (see the root vitest.config.ts), so that the machine's other work
// does not add to what it measures.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { chain, outside } from './helper.ts';

describe('deadlines across hops', () => {
  it('end a 300 ms deadline across three hops within 320 ms, and start no handler after its deadline', async () => {
    const cStarts: number[] = [];
    let deadline = 0;
    const { aUrl } = await chain({
      c: (app) =>
        app.get('/work', async () => {
          cStarts.push(Date.now());
          await sleep(1_000);
          return { late: true };
        }),
      b: (app) =>
        app.get('/work', async () => {
          await sleep(150);
          const first = await app.client.get('service://c/work').catch((err: { code: string }) => err.code);
          const second = await app.client.get('service://c/work').catch((err: { code: string }) => err.code);
          return { first, second };
        }),
    });
    const client = outside();
    const started = Date.now();
    deadline = started + 300;
    const err = await client.get(`${aUrl}/work`, { timeout: 300 }).catch((e: { code: string; status?: number }) => e);
    const took = Date.now() - started;
    expect(took).toBeLessThan(320);
    expect(err).toMatchObject({ code: expect.stringMatching(/SMART_CLIENT_(DEADLINE_EXCEEDED|REMOTE_ERROR)/) });
    await sleep(400); // let every hop finish what it was doing
    expect(cStarts.length).toBe(1); // b's second call to c failed before any socket
    for (const start of cStarts) expect(start).toBeLessThanOrEqual(deadline);
  });
});
