import { describe, expect, it } from 'vitest';
import { type CircuitState, circuitBreaker, codes, Target } from '../../src/index.ts';
import { answer, callTo, nextLayer, wait } from './fake.ts';

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

/** A breaker layer over `next`, the transitions it reported, and calls to one target. */
function breakerOver(next: ReturnType<typeof nextLayer>, settings: Parameters<typeof circuitBreaker>[0]) {
  const transitions: string[] = [];
  const send = circuitBreaker(settings, {
    onCircuitState: (target: string, state: CircuitState, from: CircuitState) =>
      transitions.push(`${target} ${from}->${state}`),
  })(next.send);
  return { send, transitions };
}

/** Calls to one target (its state shared, as the client's Targets do). */
function target(name = 'users') {
  const shared = new Target(name, undefined);
  return (input: Parameters<typeof callTo>[1] = {}) => callTo(name, { ...input, target: shared });
}

async function failure(promise: () => Promise<unknown>) {
  try {
    await promise();
    return undefined;
  } catch (err) {
    return err as { code: string; statusCode: number; headers?: Record<string, string> };
  }
}

describe('circuit-breaker layer (alone)', () => {
  it('stays closed under the minimum number of calls, opens at the failure rate, then refuses without a request', async () => {
    let status = 200;
    const next = nextLayer(() => answer(status));
    const { send, transitions } = breakerOver(next, { minimumNumberOfCalls: 10, waitDurationInOpenStateMs: 60_000 });
    const users = target();
    for (let i = 0; i < 5; i++) await send(users());
    status = 503;
    for (let i = 0; i < 4; i++) await send(users()); // 9 calls, 4 failed: under the minimum
    expect(transitions).toEqual([]);
    await send(users()); // 10 calls, 5 failed: 50%
    expect(transitions).toEqual(['users closed->open']);
    const before = next.seen.length;
    const err = await failure(() => send(users()));
    expect(err?.code).toBe(codes.circuitOpen);
    expect(err?.statusCode).toBe(503);
    expect(Number(err?.headers?.['retry-after'])).toBe(60);
    expect(next.seen.length).toBe(before); // no request went out
  });

  it('half-opens after the wait, lets only the permitted probes through, and closes when they succeed', async () => {
    let status = 503;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const next = nextLayer(async () => {
      if (status === 200) await gate;
      return answer(status);
    });
    const { send, transitions } = breakerOver(next, {
      minimumNumberOfCalls: 4,
      waitDurationInOpenStateMs: 40,
      permittedNumberOfCallsInHalfOpenState: 2,
    });
    const users = target();
    for (let i = 0; i < 4; i++) await send(users());
    expect(transitions).toEqual(['users closed->open']);
    await wait(60);
    status = 200;
    const probes = [send(users()), send(users())];
    const third = await failure(() => send(users()));
    expect(third?.code).toBe(codes.circuitOpen); // half-open, both probes out
    release();
    await Promise.all(probes);
    expect(transitions).toEqual(['users closed->open', 'users open->half-open', 'users half-open->closed']);
    expect((await send(users())).statusCode).toBe(200);
  });

  it('opens again when the probes fail', async () => {
    const next = nextLayer(() => answer(502));
    const { send, transitions } = breakerOver(next, {
      minimumNumberOfCalls: 2,
      waitDurationInOpenStateMs: 30,
      permittedNumberOfCallsInHalfOpenState: 1,
    });
    const users = target();
    await send(users());
    await send(users());
    await wait(45);
    await send(users()); // the probe: 502
    expect(transitions).toEqual(['users closed->open', 'users open->half-open', 'users half-open->open']);
    expect((await failure(() => send(users())))?.code).toBe(codes.circuitOpen);
  });

  it('counts an unreachable upstream as a failure, and the caller’s own abort and refusals as nothing', async () => {
    let mode: 'refused' | 'abort' | 'noInstances' = 'abort';
    const controller = new AbortController();
    const next = nextLayer(() => {
      if (mode === 'refused') throw refused();
      if (mode === 'noInstances') throw Object.assign(new Error('none'), { code: codes.noInstances });
      controller.abort();
      throw new Error('aborted');
    });
    const { send, transitions } = breakerOver(next, { minimumNumberOfCalls: 2 });
    const users = target();
    for (let i = 0; i < 3; i++) await failure(() => send(users({ signal: controller.signal })));
    mode = 'noInstances';
    for (let i = 0; i < 3; i++) await failure(() => send(users()));
    expect(transitions).toEqual([]);
    mode = 'refused';
    await failure(() => send(users()));
    await failure(() => send(users()));
    expect(transitions).toEqual(['users closed->open']);
  });

  it('judges a time window: only the last seconds’ calls count', async () => {
    const next = nextLayer(() => answer(500));
    const { send, transitions } = breakerOver(next, {
      slidingWindow: { type: 'time', seconds: 1 },
      minimumNumberOfCalls: 3,
    });
    const users = target();
    await send(users());
    await send(users());
    await wait(2_100); // both out of the window
    await send(users());
    expect(transitions).toEqual([]);
    await send(users());
    await send(users());
    expect(transitions).toEqual(['users closed->open']);
  });

  it('takes per-target settings over the client’s', async () => {
    const next = nextLayer(() => answer(503));
    const { send, transitions } = breakerOver(next, {
      minimumNumberOfCalls: 50,
      targets: { fragile: { minimumNumberOfCalls: 2 } },
    });
    const sturdy = target('sturdy');
    const fragile = target('fragile');
    for (let i = 0; i < 2; i++) await send(sturdy());
    for (let i = 0; i < 2; i++) await send(fragile());
    expect(transitions).toEqual(['fragile closed->open']);
  });
});
