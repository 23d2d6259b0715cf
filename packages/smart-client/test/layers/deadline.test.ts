import { describe, expect, it } from 'vitest';
import { deadline } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

describe('deadline layer (alone)', () => {
  it('sets the call deadline to now + the timeout, capped by the incoming request deadline', async () => {
    const next = nextLayer(() => answer(200));
    const send = deadline(10_000)(next.send);
    const capped = callTo('users', { context: { deadline: Date.now() + 500 } });
    await send(capped);
    expect(capped.call.deadline - Date.now()).toBeLessThanOrEqual(500);
    const own = callTo('users', { timeout: 3_000 });
    await send(own);
    expect(own.call.deadline - Date.now()).toBeGreaterThan(2_900);
  });

  it('counts the timeout from when the call was made, whatever the layers above it took', async () => {
    const next = nextLayer(() => answer(200));
    const send = deadline(10_000)(next.send);
    const attempt = callTo('users', { timeout: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // a slow layer above this one
    await send(attempt);
    expect(attempt.call.deadline).toBe(attempt.call.madeAt + 300);
  });

  it('fails before the next layer runs when the deadline has passed', async () => {
    const next = nextLayer(() => answer(200));
    const send = deadline(10_000)(next.send);
    await expect(send(callTo('users', { context: { deadline: Date.now() - 1 } }))).rejects.toMatchObject({
      code: 'SMART_CLIENT_DEADLINE_EXCEEDED',
    });
    expect(next.seen).toHaveLength(0);
  });

  it('gives a near deadline a timer that aborts the call, and reports it as DEADLINE_EXCEEDED', async () => {
    const next = nextLayer(
      (attempt) =>
        new Promise((_resolve, reject) =>
          attempt.call.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    );
    const started = Date.now();
    await expect(deadline(10_000)(next.send)(callTo('users', { timeout: 50 }))).rejects.toMatchObject({
      code: 'SMART_CLIENT_DEADLINE_EXCEEDED',
    });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('allocates no timer for a far deadline (undici timers, with slack, cover it)', async () => {
    const next = nextLayer(() => answer(200));
    const attempt = callTo('users');
    await deadline(10_000)(next.send)(attempt);
    expect(attempt.call.signal).toBeUndefined();
  });

  it("leaves the caller's own abort as it is", async () => {
    const controller = new AbortController();
    const next = nextLayer(() => {
      controller.abort();
      throw new Error('caller gave up');
    });
    await expect(deadline(10_000)(next.send)(callTo('users', { signal: controller.signal }))).rejects.toThrow(
      'caller gave up',
    );
  });
});
