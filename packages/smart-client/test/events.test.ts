import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient, staticResolver } from '../src/index.ts';
import { json, upstream } from './helper.ts';

describe('client events (the source of the client metrics)', () => {
  it('report calls with their outcome, retries, hedges, budget exhaustion and ejections per target', async () => {
    const log: string[] = [];
    const failing = await upstream((_req, res) => json(res, 503, {}));
    const slow = await upstream((_req, res) => setTimeout(() => json(res, 200, {}), 300));
    const fast = await upstream((_req, res) => json(res, 200, {}));
    const c = createClient({
      resolver: staticResolver({ down: [failing.url], mixed: [slow.url, fast.url] }),
      balancing: 'round-robin',
      retry: { baseMs: 1, capMs: 1, budget: { percent: 0, minPerSecond: 0.2, ttlSeconds: 10 } },
      events: {
        onCall: (target, outcome) => log.push(`call ${target} ${outcome}`),
        onRetry: (target) => log.push(`retry ${target}`),
        onHedge: (target) => log.push(`hedge ${target}`),
        onBudgetExhausted: (target) => log.push(`exhausted ${target}`),
        onEject: (target) => log.push(`eject ${target}`),
      },
    });
    onTestFinished(() => c.close());
    await (await c.fetch('service://down/x')).text(); // the budget's floor is 2 retries in 10 s
    expect(log).toEqual(['retry down', 'retry down', 'call down error']);
    log.length = 0;
    await (await c.fetch('service://down/x')).text();
    expect(log).toEqual(['exhausted down', 'call down error']);
    log.length = 0;
    await c.get('service://mixed/x', { hedge: { delayMs: 20 } });
    expect(log).toEqual(['hedge mixed', 'call mixed ok']);

    const ejected: string[] = [];
    const good = await upstream((_req, res) => json(res, 200, {}));
    const ejecting = createClient({
      resolver: staticResolver({ api: [failing.url, good.url] }),
      balancing: 'round-robin',
      retry: { maxAttempts: 1 },
      ejection: { consecutiveFailures: 2, baseMs: 10_000 },
      events: { onEject: (target, origin) => ejected.push(`${target} ${origin}`) },
    });
    onTestFinished(() => ejecting.close());
    for (let i = 0; i < 4; i++) await (await ejecting.fetch('service://api/x')).text();
    expect(ejected).toEqual([`api ${failing.url}`]);
  });
});
