import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, envVarFor, loadConfig } from '../src/index.ts';
import { load, rejection } from './helper.ts';

describe('environment layer', () => {
  it('maps nested camelCase keys to SMART_UPPER_SNAKE with __ between levels', () => {
    expect(envVarFor(['db', 'poolMax'])).toBe('SMART_DB__POOL_MAX');
    expect(envVarFor(['httpURL'])).toBe('SMART_HTTP_URL');
    expect(envVarFor(['tls', 'caFile2Path'])).toBe('SMART_TLS__CA_FILE2_PATH');
    expect(envVarFor(['max-size'])).toBe('SMART_MAX_SIZE');
  });

  it('coerces numbers, booleans and JSON arrays by the schema, and sets nested keys', async () => {
    const config = await load({
      env: {
        SMART_PORT: '8080',
        SMART_DEBUG: 'yes',
        SMART_DB__POOL_MAX: '20',
        SMART_FEATURES: '["hedging","retries"]',
        SMART_HOST: '127.0.0.1',
      },
    });
    expect(config.value.port).toBe(8080);
    expect(config.value.debug).toBe(true);
    expect(config.value.db.poolMax).toBe(20);
    expect(config.value.features).toEqual(['hedging', 'retries']);
    expect(config.value.host).toBe('127.0.0.1');
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['1', true],
    ['0', false],
    ['on', true],
    ['no', false],
  ])('reads %j as the boolean %j', async (raw, expected) => {
    const config = await load({ env: { SMART_DEBUG: raw } });
    expect(config.value.debug).toBe(expected);
  });

  it('keeps strings that look like numbers as strings for string keys', async () => {
    const config = await load({ env: { SMART_HOST: '0012' } });
    expect(config.value.host).toBe('0012');
  });

  it('reports values that cannot be coerced, naming the key, the layer and the variable', async () => {
    const err = await rejection(
      load({ env: { SMART_PORT: '80a', SMART_DEBUG: 'maybe', SMART_FEATURES: '[oops', SMART_DB__POOL_MAX: '' } }),
    );
    expect(err.code).toBe('SMART_CONFIG_INVALID');
    expect(err.issues).toEqual(
      expect.arrayContaining([
        { key: 'port', layer: 'env', envVar: 'SMART_PORT', message: '"80a" is not a number' },
        expect.objectContaining({ key: 'debug', layer: 'env', message: expect.stringContaining('not a boolean') }),
        expect.objectContaining({ key: 'features', layer: 'env', message: expect.stringContaining('not valid JSON') }),
        expect.objectContaining({ key: 'db.poolMax', layer: 'env', message: '"" is not a number' }),
      ]),
    );
    expect(err.message).toContain('port (from env) [SMART_PORT]: "80a" is not a number');
  });

  it('ignores SMART_ variables that are not keys, and never reads other variables', async () => {
    const config = await load({ env: { SMART_NOT_A_KEY: 'x', PORT: '1', DB__POOL_MAX: '2' } });
    expect(config.value.port).toBe(3000);
    expect(config.value.db.poolMax).toBe(10);
  });

  it('reads process.env when no env is given', async () => {
    const definition = defineConfig({ schema: z.object({ answer: z.number() }), defaults: { answer: 1 } });
    process.env.SMART_ANSWER = '42';
    try {
      const config = await loadConfig(definition, { service: 'env-test', realm: 'local' });
      expect(config.value.answer).toBe(42);
      expect(config.explain('answer')[0]?.source).toBe('env');
    } finally {
      delete process.env.SMART_ANSWER;
    }
  });

  it('coerces bigints, dates and unions of strings and numbers', async () => {
    const definition = defineConfig({
      schema: z.object({
        big: z.bigint(),
        since: z.date(),
        limit: z.union([z.number(), z.literal('unlimited')]),
        name: z.union([z.number(), z.string()]),
      }),
      defaults: { big: 1n, since: new Date(0), limit: 10, name: 1 },
    });
    const config = await loadConfig(definition, {
      service: 'env-test',
      env: {
        SMART_BIG: '9007199254740993',
        SMART_SINCE: '2026-01-02T03:04:05Z',
        SMART_LIMIT: '250',
        SMART_NAME: 'abc',
      },
    });
    expect(config.value.big).toBe(9007199254740993n);
    expect(config.value.since.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(config.value.limit).toBe(250);
    expect(config.value.name).toBe('abc');
  });
});
