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

  it("keeps the caller's own headers, and starts a new trace when there is none", async () => {
    const next = nextLayer(() => answer(200));
    const attempt = callTo('users', {
      headers: { 'x-request-id': 'mine' },
      context: { requestId: 'theirs' },
    });
    await propagation()(next.send)(attempt);
    expect(attempt.call.headers['x-request-id']).toBe('mine');
    expect(attempt.call.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(attempt.call.headers['x-smart-deadline']).toBeUndefined(); // no deadline layer above: none to send
  });
});
