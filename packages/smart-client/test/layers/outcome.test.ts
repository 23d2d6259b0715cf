import { describe, expect, it } from 'vitest';
import { noInstances } from '../../src/errors.ts';
import { outcome } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

describe('outcome layer (alone)', () => {
  it('reports every call with its outcome: ok below 500, error for 5xx, refused, and unavailable', async () => {
    const log: string[] = [];
    let reply: () => never | ReturnType<typeof answer> = () => answer(404);
    const send = outcome({ onCall: (target, result) => log.push(`${target} ${result}`) })(
      nextLayer(() => reply()).send,
    );
    await send(callTo('users'));
    reply = () => answer(503);
    await send(callTo('users'));
    reply = () => {
      throw noInstances('users', 'local');
    };
    await send(callTo('users')).catch(() => {});
    reply = () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    const err = await send(callTo('users')).catch((e: unknown) => e);
    expect(log).toEqual(['users ok', 'users error', 'users refused', 'users unavailable']);
    expect(err).toMatchObject({ code: 'SMART_CLIENT_UNAVAILABLE', cause: { code: 'ECONNREFUSED' } });
  });

  it("rethrows the caller's own abort unchanged", async () => {
    const controller = new AbortController();
    controller.abort();
    const send = outcome(undefined)(
      nextLayer(() => {
        throw new DOMException('aborted', 'AbortError');
      }).send,
    );
    await expect(send(callTo('users', { signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
  });
});
