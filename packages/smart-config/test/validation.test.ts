import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, loadConfig, memorySource, secret } from '../src/index.ts';
import { load, rejection } from './helper.ts';

describe('validation at load', () => {
  it('lists every bad key with the layer that set it and the schema message', async () => {
    const err = await rejection(
      load({
        env: { SMART_PORT: '70000', SMART_LOG__LEVEL: 'verbose' },
        sources: [memorySource('atlas', { db: { url: 'mysql://db/orders' }, features: 'hedging' })],
      }),
    );
    expect(err.code).toBe('SMART_CONFIG_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ key: 'port', layer: 'env', message: expect.stringContaining('Too big') }),
      expect.objectContaining({ key: 'log.level', layer: 'env', message: expect.stringContaining('Invalid option') }),
      expect.objectContaining({ key: 'db.url', layer: 'atlas', message: expect.stringContaining('postgres://') }),
      expect.objectContaining({ key: 'features', layer: 'atlas', message: expect.stringContaining('expected array') }),
    ]);
    expect(err.message).toMatch(/Invalid config for service "orders" in realm "local"/);
    expect(err.message).toContain('log.level (from env) [SMART_LOG__LEVEL]');
  });

  it('names required keys that no layer sets', async () => {
    const definition = defineConfig({
      schema: z.object({ region: z.string(), limits: z.object({ rps: z.number() }) }),
      defaults: {},
    });
    const err = await rejection(loadConfig(definition, { service: 'orders', env: {} }));
    expect(err.code).toBe('SMART_CONFIG_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ key: 'region', layer: 'unset', envVar: 'SMART_REGION' }),
      expect.objectContaining({ key: 'limits.rps', layer: 'unset', envVar: 'SMART_LIMITS__RPS' }),
    ]);
  });

  it('reports a missing secret beside other problems in one error', async () => {
    const err = await rejection(load({ realm: 'production', env: { SMART_PORT: 'x' } }));
    expect(err.code).toBe('SMART_CONFIG_INVALID');
    expect(err.issues).toEqual([
      expect.objectContaining({ key: 'port', layer: 'env' }),
      expect.objectContaining({ key: 'db.password', layer: 'unset', message: expect.stringContaining('secret') }),
    ]);
  });

  it('wraps a failing source with a coded error naming it', async () => {
    const broken = { name: 'atlas', load: () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const err = await rejection(load({ sources: [broken] }));
    expect(err.code).toBe('SMART_CONFIG_SOURCE_FAILED');
    expect(err.message).toBe('Config source "atlas" failed: connect ECONNREFUSED');
  });

  it('refuses sources with reserved or duplicate names', async () => {
    for (const names of [['env'], ['defaults'], ['realm:x'], ['atlas', 'atlas']]) {
      const err = await rejection(load({ sources: names.map((name) => memorySource(name)) }));
      expect(err.code).toBe('SMART_CONFIG_INVALID_OPTION');
    }
  });
});

describe('defineConfig checks the definition at once', () => {
  const schema = z.object({
    port: z.number(),
    db: z.object({ password: z.string() }),
    tags: z.record(z.string(), z.string()),
  });

  function definitionError(run: () => unknown): Error & { code: string } {
    try {
      run();
    } catch (err) {
      return err as Error & { code: string };
    }
    throw new Error('expected defineConfig to throw');
  }

  it('refuses keys the schema does not have, in defaults and realms', () => {
    const err = definitionError(() =>
      defineConfig({
        schema,
        // @ts-expect-error: a typo the types catch too
        defaults: { prot: 1 },
        // @ts-expect-error: a typo the types catch too
        realms: { production: { db: { pasword: 'x' } } },
      }),
    );
    expect(err.code).toBe('SMART_CONFIG_INVALID_DEFINITION');
    expect(err.message).toContain('defaults sets "prot"');
    expect(err.message).toContain('realm "production" sets "db.pasword"');
  });

  it('refuses a secret given a value in a realm, and secret() outside defaults', () => {
    const err = definitionError(() =>
      defineConfig({
        schema,
        defaults: { db: { password: secret() } },
        realms: { testing: { db: { password: 'in-source' } }, production: { port: secret() as never } },
      }),
    );
    expect(err.message).toContain('realm "testing" sets secret "db.password"');
    expect(err.message).toContain('realm "production" uses secret() at "port"');
    expect(err.message).not.toContain('in-source');
  });

  it('refuses a malformed realm name, a reserved key and a non-object schema', () => {
    expect(definitionError(() => defineConfig({ schema, defaults: {}, realms: { Prod: {} } })).message).toContain(
      'realm name "Prod"',
    );
    expect(
      definitionError(() => defineConfig({ schema: z.object({ realm: z.string() }), defaults: {} })).message,
    ).toContain('"realm" is reserved');
    expect(definitionError(() => defineConfig({ schema: z.string() as never, defaults: {} as never })).code).toBe(
      'SMART_CONFIG_INVALID_DEFINITION',
    );
  });

  it('refuses two keys that map to one environment variable', () => {
    const err = definitionError(() =>
      defineConfig({ schema: z.object({ poolMax: z.number(), pool_max: z.number() }), defaults: {} }),
    );
    expect(err.message).toContain('both map to SMART_POOL_MAX');
  });

  it('accepts values inside a record key', () => {
    const definition = defineConfig({ schema, defaults: { port: 1, tags: { team: 'payments' } } });
    expect(definition.keys.map((key) => key.key)).toEqual(['port', 'db.password', 'tags']);
  });
});
