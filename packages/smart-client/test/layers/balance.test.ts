import { describe, expect, it } from 'vitest';
import { balance, createBalancer, HostGuard } from '../../src/index.ts';
import { answer, callTo, nextLayer } from './fake.ts';

const endpoints = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'].map((origin) => ({
  id: origin,
  origin,
}));

describe('balance layer (alone)', () => {
  it('sends every further attempt of a call to an instance it has not tried, even the most loaded one', async () => {
    const balancer = createBalancer('p2c');
    // The other two instances are busy with other calls; the one this call tried is idle.
    for (let i = 0; i < 5; i++) {
      balancer.start(endpoints[1] as (typeof endpoints)[number]);
      balancer.start(endpoints[2] as (typeof endpoints)[number]);
    }
    const next = nextLayer(() => answer(200));
    const send = balance(balancer, new HostGuard(undefined))(next.send);
    const first = callTo('users');
    first.call.endpoints = endpoints;
    await send(first);
    // p2c compares two instances at random: the first attempt goes to the idle one unless both drawn are busy.
    const backup = first.another('hedge');
    await send(backup);
    expect(backup.origin).not.toBe(first.origin);
    const third = first.another('retry');
    await send(third);
    expect(new Set([first.origin, backup.origin, third.origin]).size).toBe(3);
  });

  it('counts an attempt as outstanding on its instance until it ends', async () => {
    const balancer = createBalancer('p2c');
    let release: () => void = () => {};
    const next = nextLayer(() => new Promise((resolve) => (release = () => resolve(answer(200)))));
    const first = callTo('users');
    first.call.endpoints = endpoints.slice(0, 2);
    const sent = balance(balancer, new HostGuard(undefined))(next.send)(first);
    // While it runs, the other instance (less loaded) gets every pick.
    for (let i = 0; i < 10; i++) expect(balancer.pick(endpoints.slice(0, 2)).origin).not.toBe(first.origin);
    release();
    await sent;
  });

  it('refuses an origin outside the allowed hosts, and link-local ones by default', () => {
    const next = nextLayer(() => answer(200));
    const metadata = callTo('users');
    metadata.call.endpoints = [{ id: 'm', origin: 'http://169.254.169.254' }];
    expect(() => balance(createBalancer(), new HostGuard(undefined))(next.send)(metadata)).toThrow(
      expect.objectContaining({ code: 'SMART_CLIENT_ADDRESS_NOT_ALLOWED' }),
    );
    const strict = balance(createBalancer(), new HostGuard(['10.0.0.1']))(next.send);
    const plain = callTo('http://127.0.0.1:9', { origin: 'http://127.0.0.1:9' });
    expect(() => strict(plain)).toThrow(expect.objectContaining({ code: 'SMART_CLIENT_ADDRESS_NOT_ALLOWED' }));
    expect(next.seen).toHaveLength(0);
  });
});
