import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient, staticResolver } from '../src/index.ts';
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
});
