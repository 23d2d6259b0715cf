import { describe, expect, it } from 'vitest';
import { resolve, type ServiceResolver, staticResolver } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

describe('resolve layer (alone)', () => {
  it('hands the next layer the endpoints, synchronously when the resolver answers from memory', () => {
    const next = nextLayer(() => answer(200));
    const attempt = callTo('users');
    void resolve(staticResolver({ users: ['http://127.0.0.1:1'] }), 'local')(next.send)(attempt);
    // No await: the next layer has already run.
    expect(next.seen).toHaveLength(1);
    expect(attempt.call.endpoints?.map((e) => e.origin)).toEqual(['http://127.0.0.1:1']);
  });

  it('waits for a resolver that answers with a promise', async () => {
    const next = nextLayer(() => answer(200));
    const slow: ServiceResolver = {
      name: 'slow',
      resolve: async () => [{ id: 'a', origin: 'http://127.0.0.1:2' }],
    };
    const attempt = callTo('users');
    const sent = resolve(slow, 'local')(next.send)(attempt);
    expect(next.seen).toHaveLength(0);
    await sent;
    expect(attempt.call.endpoints?.[0]?.origin).toBe('http://127.0.0.1:2');
  });

  it('fails with NO_INSTANCES when the resolver knows no instance, naming the realm', () => {
    const next = nextLayer(() => answer(200));
    expect(() => resolve(staticResolver({}), 'testing')(next.send)(callTo('users'))).toThrow(
      expect.objectContaining({ code: 'SMART_CLIENT_NO_INSTANCES', message: expect.stringContaining('testing') }),
    );
  });

  it('lets a plain URL call through without asking the resolver', async () => {
    const next = nextLayer(() => answer(200));
    const never: ServiceResolver = {
      name: 'never',
      resolve: () => {
        throw new Error('asked');
      },
    };
    await resolve(never, 'local')(next.send)(callTo('http://127.0.0.1:3', { origin: 'http://127.0.0.1:3' }));
    expect(next.seen).toHaveLength(1);
  });
});
