// fibfrontend with userstore and pricing as real services on loopback: the
// parts of the flow that need a fault between them (a lost answer) or a
// reference to check against.
import { describe, expect, it } from 'vitest';
import { credentials, MAX_N, parseN } from '../fibfrontend/src/app.ts';
import { fib } from '../fibfrontend/src/fib.ts';
import { costOf } from '../pricing/src/app.ts';
import { addUser, fibpro, freshDatabase, lossyProxy } from './helper.ts';

const dbUrl = await freshDatabase();

/** fib(n) by fast doubling (F(2k) = F(k)(2F(k+1) - F(k)), F(2k+1) = F(k)^2 + F(k+1)^2): another road to the same numbers. */
function reference(n: number): bigint {
  const pair = (k: number): [bigint, bigint] => {
    if (k === 0) return [0n, 1n];
    const [a, b] = pair(Math.floor(k / 2)); // F(k/2), F(k/2 + 1)
    const even = a * (2n * b - a);
    const odd = a * a + b * b;
    return k % 2 === 0 ? [even, odd] : [odd, even + odd];
  };
  return pair(n)[0];
}

describe('fibfrontend', () => {
  it('computes fib(n) exactly, up to the largest n it serves', () => {
    expect([0, 1, 2, 3, 10, 93, 94].map((n) => fib(n).toString())).toEqual([
      '0',
      '1',
      '1',
      '2',
      '55',
      '12200160415121876738', // the largest below 2^64
      '19740274219868223167', // the first above: BigInt, not a float
    ]);
    for (const n of [500, 1_234, 9_999, MAX_N]) expect(fib(n)).toBe(reference(n));
    expect(fib(MAX_N).toString()).toHaveLength(2_090);
  });

  it('takes n as digits only, and Basic credentials as user:password', () => {
    expect(parseN('0')).toBe(0);
    expect(parseN('10000')).toBe(10_000);
    for (const bad of ['4.5', 'favicon.ico', '-3', '10001', '1e3', ' 7', '0x10', '99999999999999999999']) {
      expect(() => parseN(bad), bad).toThrow(expect.objectContaining({ code: 'FIBPRO_BAD_N', statusCode: 400 }));
    }
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    expect(credentials(basic('alice:won:derland'))).toEqual({ user: 'alice', password: 'won:derland' });
    for (const bad of [undefined, 'Bearer abc', basic('alice'), basic(':pw')]) {
      expect(() => credentials(bad)).toThrow(
        expect.objectContaining({ code: 'FIBPRO_AUTH_REQUIRED', statusCode: 401, headers: expect.any(Object) }),
      );
    }
  });

  it('prices fib(n) by the logarithm of n, n = 0 included', () => {
    expect([0, 1, 2, 3, 7, 10, 1_000, 10_000].map(costOf)).toEqual([1, 2, 2, 3, 4, 4, 10, 14]);
  });

  it('charges once when the answer to the charge is lost and the client retries it', async () => {
    let proxy: Awaited<ReturnType<typeof lossyProxy>> | undefined;
    const { users, url } = await fibpro(dbUrl, {
      userstoreUrl: async (direct) => {
        proxy = await lossyProxy(direct);
        return proxy.url;
      },
    });
    const user = await addUser(users, 20);
    if (!proxy) throw new Error('no proxy');
    proxy.state.dropNext = true;

    const res = await fetch(`${url}/10`, { headers: { authorization: user.basic, 'x-request-id': 'lost-answer-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n: 10, fib: '55', cost: 4, credit: 16 });
    expect(proxy.state.dropped).toBe(1);
    expect((await users.inject(`/users/${user.name}`)).json()).toMatchObject({ credit: 16 });
    // userstore saw the charge twice: applied, then answered from the stored row.
    const charges = users.logs.filter(
      (l) => l.requestId === 'lost-answer-1' && l.user === user.name && 'replayed' in l,
    );
    expect(charges.map((l) => l.replayed)).toEqual([false, true]);
  });

  it('charges every request, even two that reuse one request id', async () => {
    const { users, url } = await fibpro(dbUrl);
    const user = await addUser(users, 20);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/3`, { headers: { authorization: user.basic, 'x-request-id': 'same-id' } });
      expect(res.status).toBe(200);
    }
    expect((await users.inject(`/users/${user.name}`)).json()).toMatchObject({ credit: 20 - 2 * costOf(3) });
  });

  it('asks for Basic auth with a WWW-Authenticate challenge, for no credentials and for wrong ones', async () => {
    const { users, url } = await fibpro(dbUrl);
    const user = await addUser(users, 5);
    const none = await fetch(`${url}/5`);
    const wrong = await fetch(`${url}/5`, {
      headers: { authorization: `Basic ${Buffer.from(`${user.name}:nope`).toString('base64')}` },
    });
    for (const [res, code] of [
      [none, 'FIBPRO_AUTH_REQUIRED'],
      [wrong, 'FIBPRO_BAD_CREDENTIALS'],
    ] as const) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="FibPro", charset="UTF-8"');
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code, service: 'fibfrontend' });
    }
    expect((await users.inject(`/users/${user.name}`)).json()).toMatchObject({ credit: 5 });
  });
});
