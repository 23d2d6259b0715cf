import { describe, expect, it, onTestFinished } from 'vitest';
import { compose, createClient, defaultLayers, type Layer, staticResolver } from '../../src/index.ts';
import { json, upstream } from '../helper.ts';
import { answer, callTo } from './fake.ts';

describe('composition', () => {
  it('runs layers outermost first, each wrapping the next', async () => {
    const order: string[] = [];
    const named =
      (name: string): Layer =>
      (next) =>
      async (attempt) => {
        order.push(`${name} in`);
        const response = await next(attempt);
        order.push(`${name} out`);
        return response;
      };
    await compose([named('a'), named('b')], async () => answer(200))(callTo('users'));
    expect(order).toEqual(['a in', 'b in', 'b out', 'a out']);
  });

  it('has the documented default order, each layer named', () => {
    const names = defaultLayers({}, { resolver: staticResolver({}), realm: 'local' }).map((layer) => layer.name);
    expect(names).toEqual([
      'callSpan',
      'outcome',
      'deadline',
      'circuitBreaker',
      'propagation',
      'resolve',
      'retry',
      'hedge',
      'attemptSpan',
      'bulkhead',
      'eject',
      'balance',
    ]);
  });

  it('lets a client add a layer of its own, which sees every attempt with its kind and instance', async () => {
    const up = await upstream((_req, res) => json(res, 200, {}));
    const seen: string[] = [];
    const spy: Layer = function spy(next) {
      return (attempt) => {
        seen.push(`${attempt.call.service} ${attempt.kind} ${attempt.origin}`);
        return next(attempt);
      };
    };
    const client = createClient({
      resolver: staticResolver({ users: [up.url] }),
      layers: (layers) => [...layers, spy], // innermost: after balance chose the instance
    });
    onTestFinished(() => client.close());
    await client.get('service://users/x');
    expect(seen).toEqual([`users first ${up.url}`]);
  });
});
