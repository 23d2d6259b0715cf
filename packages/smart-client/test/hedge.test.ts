import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient, type Layer, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

describe('hedged requests', () => {
  it('send a backup after the delay, take the fast answer and abort the slow one', async () => {
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
    const answer = await c.get<{ from: string }>('service://api/x', { hedge: { delayMs: 50 } });
    expect(answer.from).toBe('fast');
    expect(Date.now() - started).toBeLessThan(400);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slowAborted).toBe(true);
    expect(slow.seen.length).toBe(1);
    expect(fast.seen.length).toBe(1);
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
