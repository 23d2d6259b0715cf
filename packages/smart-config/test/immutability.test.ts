import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, loadConfig, memorySource, secret } from '../src/index.ts';
import { load } from './helper.ts';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

describe('immutability', () => {
  it('gives a deeply frozen value: writes throw at every depth', async () => {
    const config = await load();
    const value = config.value as unknown as {
      port: number;
      db: { poolMax: number };
      features: string[];
    };
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.db)).toBe(true);
    expect(Object.isFrozen(value.features)).toBe(true);
    expect(() => {
      value.port = 1;
    }).toThrow(TypeError);
    expect(() => {
      value.db.poolMax = 1;
    }).toThrow(TypeError);
    expect(() => value.features.push('x')).toThrow(TypeError);
  });

  it('never mutates the definition, the env or what sources return', async () => {
    const schema = z.object({
      port: z.number(),
      db: z.object({ url: z.string(), password: z.string() }),
      tags: z.array(z.string()),
      extra: z.record(z.string(), z.number()),
    });
    const spec = {
      schema,
      defaults: { port: 1, db: { url: 'postgres://x', password: secret({ local: 'pw' }) }, tags: ['t'], extra: {} },
      realms: { local: { db: { url: 'postgres://local' } } },
    };
    const env = { SMART_PORT: '2', SMART_TAGS: '["e"]' };
    const sourceValues = { tags: ['s'], extra: { a: 1 }, 'db.url': 'postgres://atlas' };
    const snapshot = JSON.stringify([spec.defaults, spec.realms, env, sourceValues]);

    const definition = defineConfig(spec);
    const config = await loadConfig(definition, {
      service: 'orders',
      env,
      sources: [memorySource('atlas', sourceValues)],
    });

    expect(JSON.stringify([spec.defaults, spec.realms, env, sourceValues])).toBe(snapshot);
    expect(Object.isFrozen(sourceValues.tags)).toBe(false);
    expect(Object.isFrozen(spec.defaults.tags)).toBe(false);
    expect(config.value.tags).not.toBe(sourceValues.tags);
    expect(config.value.extra).not.toBe(sourceValues.extra);
    await config.close();
  });

  it('works with inputs the caller froze', async () => {
    const schema = z.object({ port: z.number(), tags: z.array(z.string()) });
    const frozen = deepFreeze({ defaults: { port: 1, tags: ['a'] }, realms: { local: { port: 2 } } });
    const definition = defineConfig({ schema, ...frozen });
    const config = await loadConfig(definition, {
      service: 'orders',
      env: deepFreeze({ SMART_TAGS: '["b"]' }),
      sources: [memorySource('atlas', deepFreeze({ port: 3 }))],
    });
    expect(config.value).toEqual({ port: 3, tags: ['b'] });
    await config.close();
  });
});
