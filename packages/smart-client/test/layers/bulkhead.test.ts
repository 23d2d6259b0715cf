import { describe, expect, it } from 'vitest';
import { bulkhead, codes, Target } from '../../src/index.ts';
import { answer, callTo, nextLayer, wait } from './fake.ts';

function target(name = 'reports') {
  const shared = new Target(name, undefined);
  return (input: Parameters<typeof callTo>[1] = {}) => callTo(name, { ...input, target: shared });
}

describe('bulkhead layer (alone)', () => {
  it('lets maxConcurrent attempts run, queues maxQueue, and refuses the next at once with BULKHEAD_FULL', async () => {
    let inFlight = 0;
    let most = 0;
    const next = nextLayer(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await wait(50);
      inFlight--;
      return answer(200);
    });
    const full: string[] = [];
    const layer = bulkhead({ maxConcurrent: 2, maxQueue: 1 }, { onBulkheadFull: (t) => full.push(t) })(next.send);
    const send = async (attempt: ReturnType<typeof callTo>) => layer(attempt); // a refusal is thrown synchronously
    const reports = target();
    const running = [send(reports()), send(reports()), send(reports())];
    const started = performance.now();
    const err = await send(reports()).catch((e: { code: string; statusCode: number }) => e);
    expect(performance.now() - started).toBeLessThan(20);
    expect(err).toMatchObject({ code: codes.bulkheadFull, statusCode: 503 });
    expect(full).toEqual(['reports']);
    expect((await Promise.all(running)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(most).toBe(2);
    expect(next.seen).toHaveLength(3);
  });

  it('a queued attempt leaves the queue when its signal aborts (its deadline), and frees no slot it never had', async () => {
    const next = nextLayer(async () => {
      await wait(60);
      return answer(200);
    });
    const send = bulkhead({ maxConcurrent: 1, maxQueue: 1 }, undefined)(next.send);
    const reports = target();
    const first = send(reports());
    const controller = new AbortController();
    const queued = send(reports({ signal: controller.signal }));
    controller.abort(new Error('deadline'));
    await expect(queued).rejects.toThrow('deadline');
    await first;
    expect(next.seen).toHaveLength(1);
    // One slot, free again: two calls in a row both run.
    await send(reports());
    await send(reports());
    expect(next.seen).toHaveLength(3);
  });

  it('takes per-target limits over the client’s', async () => {
    const next = nextLayer(async () => {
      await wait(30);
      return answer(200);
    });
    const layer = bulkhead(
      { maxConcurrent: 10, maxQueue: 0, targets: { tiny: { maxConcurrent: 1 } } },
      undefined,
    )(next.send);
    const send = async (attempt: ReturnType<typeof callTo>) => layer(attempt);
    const tiny = target('tiny');
    const big = target('big');
    const ok = [send(big()), send(big()), send(tiny())];
    await expect(send(tiny())).rejects.toMatchObject({ code: codes.bulkheadFull });
    await Promise.all(ok);
  });
});
