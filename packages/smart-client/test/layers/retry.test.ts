import { describe, expect, it } from 'vitest';
import { retry, Target } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const fast = { baseMs: 1, capMs: 1 };

describe('retry layer (alone)', () => {
  it('sends a retry attempt after a 503 and a refused connection, and returns the first good answer', async () => {
    let n = 0;
    const next = nextLayer(() => {
      n++;
      if (n === 1) return answer(503);
      if (n === 2) throw refused();
      return answer(200);
    });
    const attempt = callTo('users');
    attempt.call.deadline = Date.now() + 5_000;
    const response = await retry(fast, undefined)(next.send)(attempt);
    expect(response.statusCode).toBe(200);
    expect(next.seen.map((a) => `${a.kind}#${a.number}`)).toEqual(['first#1', 'retry#2', 'retry#3']);
  });

  it('never retries a call that may not be retried; the 503 stands', async () => {
    const next = nextLayer(() => answer(503));
    const attempt = callTo('orders', { method: 'POST', retryable: false });
    expect((await retry(fast, undefined)(next.send)(attempt)).statusCode).toBe(503);
    expect(next.seen).toHaveLength(1);
  });

  it('stops at maxAttempts, and lets the last answer stand', async () => {
    const next = nextLayer(() => answer(502));
    const attempt = callTo('users');
    attempt.call.deadline = Date.now() + 5_000;
    expect((await retry({ ...fast, maxAttempts: 2 }, undefined)(next.send)(attempt)).statusCode).toBe(502);
    expect(next.seen).toHaveLength(2);
  });

  it('asks the target budget for every retry and reports exhaustion once it is spent', async () => {
    const events: string[] = [];
    const next = nextLayer(() => answer(503));
    const layer = retry(fast, {
      onRetry: (target) => events.push(`retry ${target}`),
      onBudgetExhausted: (target) => events.push(`exhausted ${target}`),
    })(next.send);
    // A budget with room for exactly one retry.
    const attempt = callTo('users', { target: new Target('users', { percent: 0, minPerSecond: 0.1, ttlSeconds: 10 }) });
    attempt.call.deadline = Date.now() + 5_000;
    await layer(attempt);
    expect(events).toEqual(['retry users', 'exhausted users']);
  });

  it('does not wait past the deadline: a Retry-After beyond it lets the answer stand', async () => {
    const next = nextLayer(() => answer(503, { 'retry-after': '5' }));
    const attempt = callTo('users');
    attempt.call.deadline = Date.now() + 1_000;
    const started = Date.now();
    expect((await retry(fast, undefined)(next.send)(attempt)).statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(500);
    expect(next.seen).toHaveLength(1);
  });
});
