import { describe, expect, it } from 'vitest';
import { build, chain } from './helper.ts';

describe('calls between smart services', () => {
  it('carry request id, trace context, caller and deadline across two hops', async () => {
    const seenByC: Record<string, string | undefined>[] = [];
    const { a, b, c, aUrl } = await chain({
      c: (app) =>
        app.get('/work', async (request) => {
          const h = request.headers as Record<string, string | undefined>;
          seenByC.push({
            id: h['x-request-id'],
            trace: h.traceparent,
            state: h.tracestate,
            caller: h['x-smart-caller'],
            deadline: h['x-smart-deadline'],
          });
          return { ok: true };
        }),
    });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const deadline = Date.now() + 5_000;
    const res = await fetch(`${aUrl}/work`, {
      headers: { 'x-request-id': 'hop-1', traceparent, tracestate: 'k=v', 'x-smart-deadline': String(deadline) },
    });
    expect(res.status).toBe(200);
    expect(seenByC).toHaveLength(1);
    expect(seenByC[0]).toMatchObject({ id: 'hop-1', state: 'k=v', caller: 'b', deadline: String(deadline) });
    expect(seenByC[0]?.trace).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    for (const app of [a, b, c]) {
      expect(app.logs.some((line) => line.requestId === 'hop-1' && line.msg === 'request completed')).toBe(true);
    }
    const metrics = (await a.inject('/metrics')).body;
    expect(metrics).toMatch(/client_call_duration_seconds_count\{[^}]*target="b",outcome="ok"\} 1/);
  });

  it('turn a failure two services away into a RemoteError chain in each caller’s problem', async () => {
    const { a, aUrl } = await chain({
      c: (app) =>
        app.get('/work', async () => {
          throw Object.assign(new Error('ledger is locked for ann'), { statusCode: 409, code: 'LEDGER_LOCKED' });
        }),
    });
    const res = await fetch(`${aUrl}/work`, { headers: { 'x-request-id': 'chain-1' } });
    expect(res.status).toBe(502);
    const problem = await res.json();
    expect((await a.inject('/metrics')).body).toMatch(
      /client_call_duration_seconds_count\{[^}]*target="b",outcome="error"\} 1/,
    ); // b answered 502
    expect(problem).toMatchObject({
      service: 'a',
      code: 'SMART_CLIENT_REMOTE_ERROR',
      requestId: 'chain-1',
      cause: {
        service: 'b',
        status: 502,
        code: 'SMART_CLIENT_REMOTE_ERROR',
        requestId: 'chain-1',
        cause: {
          service: 'c',
          status: 409,
          code: 'LEDGER_LOCKED',
          detail: 'ledger is locked for ann',
          requestId: 'chain-1',
        },
      },
    });
  });

  it('answer 504 without running the handler when the incoming deadline has passed', async () => {
    let ran = false;
    const app = await build({ realm: 'production' });
    app.get('/work', async () => {
      ran = true;
      return 'done';
    });
    const res = await app.inject({ url: '/work', headers: { 'x-smart-deadline': String(Date.now() - 5) } });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({
      code: 'SMART_SERVICE_DEADLINE_PASSED',
      detail: expect.stringContaining('deadline passed'),
    });
    expect(ran).toBe(false);
    expect(app.logs.some((l) => l.msg === 'request failed')).toBe(false); // not logged (or reported) as this service's failure
  });
});
