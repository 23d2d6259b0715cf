import { describe, expect, it } from 'vitest';
import { Ejector, eject } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

const endpoints = ['http://127.0.0.1:1', 'http://127.0.0.1:2'].map((origin) => ({ id: origin, origin }));

describe('eject layer (alone)', () => {
  it('ejects an instance after consecutive 503s and leaves it out of the next attempts, reporting the target', async () => {
    const ejected: string[] = [];
    // Plays the balance layer: always the first candidate.
    const next = nextLayer((attempt) => {
      attempt.origin = attempt.candidates?.[0]?.origin;
      return answer(attempt.origin === 'http://127.0.0.1:1' ? 503 : 200);
    });
    const send = eject(new Ejector({ consecutiveFailures: 3, baseMs: 10_000 }), {
      onEject: (target, origin) => ejected.push(`${target} ${origin}`),
    })(next.send);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const attempt = callTo('users');
      attempt.call.endpoints = endpoints;
      statuses.push((await send(attempt)).statusCode);
    }
    expect(statuses).toEqual([503, 503, 503, 200, 200]);
    expect(ejected).toEqual(['users http://127.0.0.1:1']);
  });

  it('counts a refused connection as a failure and any answer below 502 as a success', async () => {
    const ejector = new Ejector({ consecutiveFailures: 2, baseMs: 10_000 });
    let reply: 'refused' | 404 = 'refused';
    const next = nextLayer((attempt) => {
      attempt.origin = 'http://127.0.0.1:1';
      if (reply === 'refused') throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      return answer(reply);
    });
    const send = eject(ejector, undefined)(next.send);
    const once = async () => {
      const attempt = callTo('users');
      attempt.call.endpoints = endpoints;
      return send(attempt).catch(() => undefined);
    };
    await once();
    reply = 404;
    await once(); // resets the count
    reply = 'refused';
    await once();
    expect(ejector.available(endpoints)).toHaveLength(2);
    await once();
    expect(ejector.available(endpoints).map((e) => e.origin)).toEqual(['http://127.0.0.1:2']);
  });
});
