import { describe, expect, it } from 'vitest';
import { propagation } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

describe('propagation layer (alone)', () => {
  it('adds request id, a child traceparent, tracestate, caller and the deadline to the call headers', async () => {
    const next = nextLayer(() => answer(200));
    const attempt = callTo('users', {
      context: {
        requestId: 'req-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'v=1',
        caller: 'front',
      },
    });
    attempt.call.deadline = 1_700_000_000_000;
    await propagation()(next.send)(attempt);
    expect(next.seen[0]?.call.headers).toMatchObject({
      'x-request-id': 'req-1',
      tracestate: 'v=1',
      'x-smart-caller': 'front',
      'x-smart-deadline': '1700000000000',
    });
    expect(attempt.call.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  });

  it("keeps the caller's own headers, and sends no trace context when the call has none to continue", async () => {
    const next = nextLayer(() => answer(200));
    const attempt = callTo('users', {
      headers: { 'x-request-id': 'mine' },
      context: { requestId: 'theirs', tracestate: 'v=1' },
    });
    await propagation()(next.send)(attempt);
    expect(attempt.call.headers['x-request-id']).toBe('mine');
    // No trace invented (it would ask the next service to sample it), and no tracestate without a traceparent.
    expect(attempt.call.headers.traceparent).toBeUndefined();
    expect(attempt.call.headers.tracestate).toBeUndefined();
    expect(attempt.call.headers['x-smart-deadline']).toBeUndefined(); // no deadline layer above: none to send
  });

  it('sends no trace context for an invalid incoming traceparent (malformed, or all-zero ids)', async () => {
    for (const traceparent of [
      'not-a-traceparent',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    ]) {
      const attempt = callTo('users', { context: { traceparent, tracestate: 'v=1' } });
      await propagation()(nextLayer(() => answer(200)).send)(attempt);
      expect(attempt.call.headers.traceparent, traceparent).toBeUndefined();
      expect(attempt.call.headers.tracestate, traceparent).toBeUndefined();
    }
  });

  it('keeps the sampled flag of the trace it continues (an unsampled trace stays unsampled)', async () => {
    const attempt = callTo('users', {
      context: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' },
    });
    await propagation()(nextLayer(() => answer(200)).send)(attempt);
    expect(attempt.call.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  });
});
