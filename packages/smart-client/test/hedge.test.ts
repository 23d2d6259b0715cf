import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient, type Layer, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

describe('hedged requests', () => {
  it('send a backup after the delay, take the fast answer and, with cancelLoser, abort the slow one', async () => {
    let slowAborted = false;
    const slow = await upstream((_req, res) => {
      const timer = setTimeout(() => json(res, 200, { from: 'slow' }), 1_000);
      res.on('close', () => {
        if (!res.writableFinished) {
          slowAborted = true;
          clearTimeout(timer);
        }
      });
    });
    const fast = await upstream((_req, res) => json(res, 200, { from: 'fast' }));
    const c = createClient({ resolver: staticResolver({ api: [slow.url, fast.url] }), balancing: 'round-robin' });
    onTestFinished(() => c.close());

    const started = Date.now();
    const answer = await c.get<{ from: string }>('service://api/x', { hedge: { delayMs: 50, cancelLoser: true } });
    expect(answer.from).toBe('fast');
    expect(Date.now() - started).toBeLessThan(400);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slowAborted).toBe(true);
    expect(slow.seen.length).toBe(1);
    expect(fast.seen.length).toBe(1);
  });

  it('leave the slow attempt to finish by default: the caller has the fast answer, the slow one is read to its end, its connection kept', async () => {
    const slowAnswered: boolean[] = [];
    let slowDone: () => void = () => {};
    const slowClosed = new Promise<void>((resolve) => {
      slowDone = resolve;
    });
    const slowSockets = new Set<unknown>();
    const slow = await upstream((req, res) => {
      slowSockets.add(req.socket);
      if (req.url === '/again') return json(res, 200, { from: 'slow' });
      const timer = setTimeout(() => json(res, 200, { from: 'slow' }), 1_000);
      res.on('close', () => {
        clearTimeout(timer);
        slowAnswered.push(res.writableFinished);
        slowDone();
      });
    });
    const fast = await upstream((_req, res) => json(res, 200, { from: 'fast' }));
    const c = createClient({ resolver: staticResolver({ api: [slow.url, fast.url] }), balancing: 'round-robin' });
    onTestFinished(() => c.close());

    const started = Date.now();
    const answer = await c.get<{ from: string }>('service://api/x', { hedge: { delayMs: 50 } });
    expect(answer.from).toBe('fast');
    expect(Date.now() - started).toBeLessThan(400);
    expect(slowAnswered).toEqual([]); // still running when the call returned
    await slowClosed;
    expect(slowAnswered).toEqual([true]); // answered in full, not cut off
    // Round robin: one of the next two calls goes to the slow instance, over the connection the superseded attempt used.
    const again = [
      await c.get<{ from: string }>('service://api/again', { hedge: false }),
      await c.get<{ from: string }>('service://api/again', { hedge: false }),
    ];
    expect(again).toContainEqual({ from: 'slow' });
    expect(slowSockets.size).toBe(1);
  });

  it('keep the superseded attempt counted on its instance: p2c sends the next calls elsewhere while it runs (not so with cancelLoser)', async () => {
    // Two instances; the first request either gets is slow (2 s), every later one fast. A hedged call's
    // first attempt lands on one, its hedge answers from the other; then 20 calls without hedging.
    const nextCalls = async (cancelLoser: boolean) => {
      let slowOne: string | undefined;
      const instance = (name: string) =>
        upstream((_req, res) => {
          if (slowOne !== undefined) return json(res, 200, {});
          slowOne = name;
          // Long enough for the 20 calls below to be made while it runs, even on a loaded machine.
          const timer = setTimeout(() => json(res, 200, {}), 2_000);
          res.on('close', () => clearTimeout(timer));
        });
      const a = await instance('a');
      const b = await instance('b');
      const c = createClient({ resolver: staticResolver({ api: [a.url, b.url] }), balancing: 'p2c' });
      onTestFinished(() => c.close());
      await c.get('service://api/x', { hedge: { delayMs: 30, cancelLoser } });
      for (let i = 0; i < 20; i++) await c.get('service://api/next', { hedge: false });
      const [slow, other] = slowOne === 'a' ? [a, b] : [b, a];
      const next = (u: typeof a) => u.seen.filter((r) => r.url === '/next').length;
      return { toSlow: next(slow), toOther: next(other) };
    };
    // Left to finish, the slow attempt still counts on its instance: p2c ranks the other one less loaded.
    expect(await nextCalls(false)).toEqual({ toSlow: 0, toOther: 20 });
    // Cancelled, the instance looks idle at once (though it is still busy): the calls split between the two
    // (all 20 on one side by chance: 2 in a million).
    const cancelled = await nextCalls(true);
    expect(cancelled.toSlow).toBeGreaterThan(0);
    expect(cancelled.toSlow + cancelled.toOther).toBe(20);
  });

  it('send no backup when the first answer comes in time, nor for a POST', async () => {
    const a = await upstream((_req, res) => setTimeout(() => json(res, 200, { from: 'a' }), 150));
    const b = await upstream((_req, res) => json(res, 200, { from: 'b' }));
    const c = createClient({
      resolver: staticResolver({ api: [a.url, b.url] }),
      balancing: 'round-robin',
      hedge: { delayMs: 500 },
    });
    onTestFinished(() => c.close());
    expect((await c.get<{ from: string }>('service://api/x')).from).toBe('a');
    expect(b.seen.length).toBe(0);
    await c.post('service://api/x', {}, { hedge: { delayMs: 10 } }); // round robin: to b this time
    expect((await c.post<{ from: string }>('service://api/x', {}, { hedge: { delayMs: 10 } })).from).toBe('a');
    expect(a.seen.length + b.seen.length).toBe(3); // no backups for POSTs
  });

  it('send the backup to another instance than the slow attempt, even when p2c would rank that one least loaded', async () => {
    const slow = await upstream((_req, res) => {
      const timer = setTimeout(() => json(res, 200, { from: 'slow' }), 1_000);
      res.on('close', () => clearTimeout(timer));
    });
    const busy = await upstream((req, res) =>
      req.url === '/hold' ? setTimeout(() => json(res, 200, {}), 600) : json(res, 200, { from: 'busy' }),
    );
    const c = createClient({
      resolver: staticResolver({ api: [slow.url, busy.url], held: [busy.url] }),
      balancing: 'p2c',
    });
    onTestFinished(() => c.close());
    // Three calls hold the busy instance: p2c then ranks the slow one, even with the first attempt on it, least loaded.
    const holds = Array.from({ length: 3 }, () => c.get('service://held/hold'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const answer = await c.get<{ from: string }>('service://api/x', { hedge: { delayMs: 30 } });
    expect(answer.from).toBe('busy');
    expect(Date.now() - started).toBeLessThan(400);
    expect(slow.seen.filter((r) => r.url === '/x')).toHaveLength(1);
    await Promise.all(holds);
  });

  it('keep the tail near healthy with round robin: each slow answer is hedged to another instance at the healthy p95', async () => {
    // One instance of three answers every 4th request after 1 s, once the window has its 20 samples.
    let slowCount = 0;
    const slowAnswers: number[] = [];
    const sometimesSlow = await upstream((_req, res) => {
      slowCount++;
      if (slowCount <= 10 || slowCount % 4 !== 0) return json(res, 200, { from: 'slow' });
      slowAnswers.push(slowCount);
      const timer = setTimeout(() => json(res, 200, { from: 'slow' }), 1_000);
      res.on('close', () => clearTimeout(timer));
    });
    const a = await upstream((_req, res) => json(res, 200, { from: 'a' }));
    const b = await upstream((_req, res) => json(res, 200, { from: 'b' }));
    let hedges = 0;
    // Where each attempt went, seen below the balance layer.
    const sent: { call: unknown; kind: string; origin: string | undefined }[] = [];
    const spy: Layer = function spy(next) {
      return (attempt) => {
        sent.push({ call: attempt.call, kind: attempt.kind, origin: attempt.origin });
        return next(attempt);
      };
    };
    const c = createClient({
      resolver: staticResolver({ api: [a.url, b.url, sometimesSlow.url] }),
      balancing: 'round-robin',
      hedge: { percentile: 95 },
      events: { onHedge: () => hedges++ },
      layers: (defaults) => [...defaults, spy],
    });
    onTestFinished(() => c.close());
    for (let i = 0; i < 30; i++) await c.get('service://api/warm');
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      await c.get('service://api/x');
      times.push(performance.now() - started);
    }
    // About 20 of the 60 calls went to the slow instance first, about 5 of them were slow: each was
    // hedged, never back to the instance its first attempt was on, and none waited for its second.
    expect(slowAnswers.length).toBeGreaterThanOrEqual(4);
    expect(hedges).toBeGreaterThanOrEqual(slowAnswers.length);
    expect(Math.max(...times)).toBeLessThan(250);
    const hedged = sent.filter((attempt) => attempt.kind === 'hedge');
    expect(hedged).toHaveLength(hedges);
    for (const hedge of hedged) {
      const first = sent.find((attempt) => attempt.call === hedge.call && attempt.kind === 'first');
      expect(hedge.origin).not.toBe(first?.origin);
    }
  });
});
