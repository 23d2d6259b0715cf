import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, loadConfig, memorySource, secret, type UpdateRejectedError } from '../src/index.ts';
import { load, rejection } from './helper.ts';

const LEAK = 'hunter2-do-not-print';

describe('hostile and awkward input', () => {
  it('never lets a source reach Object.prototype, by dotted or nested keys', async () => {
    const hostile = JSON.parse(
      '{"__proto__.polluted":"yes","constructor.prototype.polluted2":"yes","db":{"__proto__":{"polluted3":"yes"}}}',
    );
    const atlas = memorySource('atlas', hostile);
    await load({ sources: [atlas] });
    atlas.set(hostile);
    const probe = {} as Record<string, unknown>;
    expect([probe.polluted, probe.polluted2, probe.polluted3]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps a secret out of errors when a transform throws, at load and in a live update', async () => {
    const definition = defineConfig({
      schema: z.object({ dbUrl: z.string().transform((s) => new URL(s)), port: z.number() }),
      defaults: { dbUrl: secret(), port: 1 },
    });
    const err = await rejection(
      loadConfig(definition, { service: 'orders', env: { SMART_DB_URL: `${LEAK} not a url` } }),
    );
    expect(err.code).toBe('SMART_CONFIG_INVALID');
    expect(inspect(err, { depth: 10 })).not.toContain(LEAK);

    const atlas = memorySource('atlas', { dbUrl: 'postgres://db/orders' });
    const config = await loadConfig(definition, { service: 'orders', env: {}, sources: [atlas] });
    const errors: UpdateRejectedError[] = [];
    config.on('error', (e) => errors.push(e as UpdateRejectedError));
    expect(() => atlas.set({ dbUrl: LEAK })).not.toThrow();
    expect(errors[0]?.code).toBe('SMART_CONFIG_UPDATE_REJECTED');
    expect(inspect(errors[0], { depth: 10 })).not.toContain(LEAK);
    expect(config.value.dbUrl.reveal().href).toBe('postgres://db/orders');
    await config.close();
  });

  it('never repeats a secret through messages that quote the input', async () => {
    const definition = defineConfig({
      schema: z.object({
        a: z.string().min(40, { error: (issue) => `key ${issue.input} too short` }),
        b: z.string().superRefine((v, ctx) => ctx.addIssue({ code: 'custom', message: `got ${v}` })),
      }),
      defaults: { a: secret(), b: secret() },
    });
    const err = await rejection(loadConfig(definition, { service: 'orders', env: { SMART_A: LEAK, SMART_B: LEAK } }));
    expect(err.message).not.toContain(LEAK);
    expect(err.message).toContain('minimum 40');
  });

  it('applies a live update to a bigint secret', async () => {
    const definition = defineConfig({ schema: z.object({ big: z.bigint() }), defaults: { big: secret<bigint>() } });
    const atlas = memorySource('atlas', { big: '1' });
    const config = await loadConfig(definition, { service: 'orders', env: {}, sources: [atlas] });
    atlas.set({ big: '2' });
    expect(config.value.big.reveal()).toBe(2n);
    await config.close();
  });

  it('keeps dots inside the keys of a record', async () => {
    const definition = defineConfig({
      schema: z.object({ upstreams: z.record(z.string(), z.string()) }),
      defaults: { upstreams: { 'api.example.com': 'a' } },
    });
    const atlas = memorySource('atlas', { upstreams: { 'pay.example.com': 'b' } });
    const config = await loadConfig(definition, { service: 'orders', env: {}, sources: [atlas] });
    expect(config.value.upstreams).toEqual({ 'pay.example.com': 'b' });
    await config.close();
  });

  it('gives each snapshot its own dates, never the definition’s', async () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const definition = defineConfig({ schema: z.object({ since: z.date() }), defaults: { since } });
    const config = await loadConfig(definition, { service: 'orders', env: {} });
    expect(config.value.since).not.toBe(since);
    expect(config.value.since.getTime()).toBe(since.getTime());
    await config.close();
  });

  it('refuses to default to realm local when NODE_ENV is production and SMART_REALM is unset', async () => {
    const err = await rejection(load({ env: { NODE_ENV: 'production' } }));
    expect(err.code).toBe('SMART_CONFIG_INVALID_OPTION');
    expect(err.message).toContain('SMART_REALM');
  });

  it('does not read a signed hex number as NaN', async () => {
    const err = await rejection(load({ env: { SMART_PORT: '-0x10' } }));
    expect(err.message).toContain('"-0x10" is not a number');
  });
});
