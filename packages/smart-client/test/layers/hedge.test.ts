import { describe, expect, it } from 'vitest';
import { hedgeShare } from '../../src/hedge.ts';
import { hedge, Target } from '../../src/index.ts';
import { answer, callTo, nextLayer, wait } from './fake.ts';

const aborted = (signal: AbortSignal | undefined) =>
  new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));

describe('hedge layer (alone)', () => {
  it('sends a hedge attempt after the delay, takes its answer, and leaves the first to finish, giving the reason', async () => {
    let late = false;
    const next = nextLayer(async (attempt) => {
      if (attempt.kind === 'hedge') return answer(200);
      await wait(60);
      const response = answer(200);
      response.body.dump = async () => {
        late = true;
      };
      return response;
    });
    const first = callTo('users');
    const response = await hedge({ delayMs: 20 }, undefined)(next.send)(first);
    expect(response.statusCode).toBe(200);
    expect(next.seen.map((a) => `${a.kind}#${a.number}`)).toEqual(['first#1', 'hedge#2']);
    expect(first.abortReason).toBe('attempt 2 answered first');
    expect(first.signal?.aborted).not.toBe(true);
    // Its answer, when it comes, is read and dropped.
    await wait(80);
    expect(late).toBe(true);
  });

  it('with cancelLoser: sends a hedge attempt after the delay, takes its answer, and aborts the first with the reason', async () => {
    const hedges: string[] = [];
    const next = nextLayer(async (attempt) => (attempt.kind === 'first' ? aborted(attempt.signal) : answer(200)));
    const first = callTo('users');
    const response = await hedge({ delayMs: 20, cancelLoser: true }, { onHedge: (t) => hedges.push(t) })(next.send)(
      first,
    );
    expect(response.statusCode).toBe(200);
    expect(next.seen.map((a) => `${a.kind}#${a.number}`)).toEqual(['first#1', 'hedge#2']);
    expect(first.signal?.aborted).toBe(true);
    expect(first.abortReason).toBe('attempt 2 answered first');
    expect(hedges).toEqual(['users']);
  });

  it('sends no hedge when the first answers within the delay, for a call that may not be retried, or with hedge: false', async () => {
    const next = nextLayer(() => answer(200));
    const send = hedge({ delayMs: 30 }, undefined)(next.send);
    await send(callTo('users'));
    await send(callTo('orders', { method: 'POST', retryable: false }));
    await send(callTo('users', { hedge: false }));
    await wait(50);
    expect(next.seen.map((a) => a.kind)).toEqual(['first', 'first', 'first']);
  });

  it('sends no hedge for an attempt whose answer was in when the late timer fired (the client was busy, not the instance slow)', async () => {
    const next = nextLayer(async () => {
      await wait(15);
      return answer(200);
    });
    const running = hedge({ delayMs: 10 }, undefined)(next.send)(callTo('users'));
    // The event loop is busy past both the hedge's delay and the answer: both are due at once.
    const until = Date.now() + 60;
    while (Date.now() < until);
    expect((await running).statusCode).toBe(200);
    await wait(20);
    expect(next.seen.map((a) => a.kind)).toEqual(['first']);
  });

  it('prefers a good answer: a fast 503 from the hedge does not beat a slower 200', async () => {
    const next = nextLayer(async (attempt) => {
      if (attempt.kind === 'hedge') return answer(503);
      await wait(60);
      return answer(200);
    });
    expect((await hedge({ delayMs: 10 }, undefined)(next.send)(callTo('users'))).statusCode).toBe(200);
  });

  it('hedges at the percentile only after 20 samples, and a lost first attempt still counts as a (slow) sample', async () => {
    let slow = false;
    const next = nextLayer(async (attempt) => {
      if (slow && attempt.kind === 'first') return aborted(attempt.signal);
      await wait(1);
      return answer(200);
    });
    const send = hedge({ percentile: 50 }, undefined)(next.send);
    const target = callTo('users').call.target;
    for (let i = 0; i < 20; i++) await send(callTo('users', { target }));
    expect(next.seen.every((a) => a.kind === 'first')).toBe(true);
    const p50 = target.latencies.percentile(50) as number;
    slow = true;
    // Thirty slow calls, each won by its hedge: the window learns they were slow instead of forgetting them.
    for (let i = 0; i < 30; i++) await send(callTo('users', { target }));
    expect(next.seen.filter((a) => a.kind === 'hedge')).toHaveLength(30);
    expect(target.latencies.percentile(90) as number).toBeGreaterThanOrEqual(p50);
  });

  it('learns the delay from good first answers only: fast 5xx failures do not pull it down', async () => {
    let failing = false;
    const next = nextLayer(async () => {
      if (failing) return answer(503);
      await wait(20);
      return answer(200);
    });
    const send = hedge({ percentile: 50 }, undefined)(next.send);
    const target = callTo('users').call.target;
    for (let i = 0; i < 20; i++) await send(callTo('users', { target }));
    failing = true;
    for (let i = 0; i < 40; i++) await send(callTo('users', { target }));
    // Forty instant 503s would have made the median ~0 ms (a hedge after every first attempt).
    expect(target.latencies.percentile(50) as number).toBeGreaterThanOrEqual(15);
  });

  it('backs up at most maxExtraLoad of the calls (plus one a second) when every first attempt is slow, and says so past it', async () => {
    const exhausted: string[] = [];
    const next = nextLayer(async (attempt) => {
      if (attempt.kind === 'first') await wait(40);
      return answer(200);
    });
    const send = hedge({ delayMs: 5, maxExtraLoad: 0.1 }, { onBudgetExhausted: (t) => exhausted.push(t) })(next.send);
    const target = callTo('users').call.target;
    await Promise.all(Array.from({ length: 100 }, () => send(callTo('users', { target }))));
    const hedges = next.seen.filter((a) => a.kind === 'hedge').length;
    // 10% of the 100 calls, plus the floor of 10 (one a second over 10 s); the retry budget alone allows 100.
    expect(hedges).toBeGreaterThanOrEqual(10);
    expect(hedges).toBeLessThanOrEqual(20);
    expect(exhausted).toHaveLength(100 - hedges);
  });

  it('by default backs up at most the share the percentile names (5% at p95; 5% with a fixed delay), so hedging adds at most that load', async () => {
    const next = nextLayer(async (attempt) => {
      if (attempt.kind === 'first') await wait(30);
      return answer(200);
    });
    const send = hedge({ delayMs: 5 }, undefined)(next.send);
    const target = callTo('users').call.target;
    await Promise.all(Array.from({ length: 200 }, () => send(callTo('users', { target }))));
    const hedges = next.seen.filter((a) => a.kind === 'hedge').length;
    // 5% of the 200 calls, plus the floor of 10 (one a second over 10 s).
    expect(hedges).toBeGreaterThanOrEqual(10);
    expect(hedges).toBeLessThanOrEqual(20);
    expect(hedgeShare({ percentile: 95 })).toBe(0.05);
    expect(hedgeShare({ percentile: 99, maxExtraLoad: 0.02 })).toBe(0.02);
  });

  it('sends no hedge when the retry budget is spent, and says so', async () => {
    const events: string[] = [];
    const next = nextLayer(async () => {
      await wait(40);
      return answer(200);
    });
    const first = callTo('users', { target: new Target('users', { percent: 0, minPerSecond: 0, ttlSeconds: 1 }) });
    await hedge({ delayMs: 5 }, { onBudgetExhausted: (t) => events.push(`exhausted ${t}`) })(next.send)(first);
    expect(next.seen.map((a) => a.kind)).toEqual(['first']);
    expect(events).toEqual(['exhausted users']);
  });
});
