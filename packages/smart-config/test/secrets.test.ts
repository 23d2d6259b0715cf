import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, isSecret, loadConfig, memorySource, Secret, secret } from '../src/index.ts';
import { load, PASSWORD, rejection } from './helper.ts';

describe('secrets', () => {
  it('show [redacted] in JSON, inspect, console formatting and template strings; reveal() gives the value', async () => {
    const config = await load({ realm: 'production', env: { SMART_DB__PASSWORD: PASSWORD } });
    const password = config.value.db.password;
    expect(isSecret(password)).toBe(true);
    expect(password.reveal()).toBe(PASSWORD);

    expect(JSON.stringify(config.value)).toContain('"password":"[redacted]"');
    expect(JSON.stringify(config.value)).not.toContain(PASSWORD);
    expect(inspect(config.value, { depth: 10, showHidden: true })).not.toContain(PASSWORD);
    expect(inspect(password)).toBe('[redacted]');
    expect(`${password}`).toBe('[redacted]');
    expect(String(password)).toBe('[redacted]');
    expect(`postgres://app:${password}@db`).toBe('postgres://app:[redacted]@db');
    expect(Object.keys(password)).toEqual([]);
    expect(Object.getOwnPropertyNames(password)).toEqual([]);
  });

  it('show [redacted] in a real pino log line', async () => {
    const config = await load({ realm: 'production', env: { SMART_DB__PASSWORD: PASSWORD } });
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'info' }, destination);
    logger.info(
      { config: config.value, password: config.value.db.password },
      `connecting with ${config.value.db.password}`,
    );
    logger.info(config.value.db, 'db config');
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] as string);
    expect(first.password).toBe('[redacted]');
    expect(first.config.db.password).toBe('[redacted]');
    expect(first.msg).toBe('connecting with [redacted]');
    expect(JSON.parse(lines[1] as string).password).toBe('[redacted]');
    expect(lines.join('')).not.toContain(PASSWORD);
  });

  it('are required outside local: the startup error names each missing key and never a value', async () => {
    const definition = defineConfig({
      schema: z.object({ db: z.object({ password: z.string() }), apiKey: z.string(), token: z.string().optional() }),
      defaults: { db: { password: secret({ local: 'dev' }) }, apiKey: secret(), token: secret({ optional: true }) },
    });
    const err = await rejection(loadConfig(definition, { service: 'orders', realm: 'production', env: {} }));
    expect(err.code).toBe('SMART_CONFIG_SECRET_MISSING');
    expect(err.issues).toEqual([
      expect.objectContaining({ key: 'db.password', layer: 'unset', envVar: 'SMART_DB__PASSWORD' }),
      expect.objectContaining({ key: 'apiKey', layer: 'unset', envVar: 'SMART_API_KEY' }),
    ]);
    expect(err.message).toContain('db.password');
    expect(err.message).toContain('SMART_API_KEY');
    expect(err.message).not.toContain('dev');
  });

  it('use their local development value only in realm local', async () => {
    const local = await load({ realm: 'local' });
    expect(local.value.db.password.reveal()).toBe('local-password');
    expect(local.explain('db.password')[0]?.source).toBe('defaults');

    const err = await rejection(load({ realm: 'testing' }));
    expect(err.code).toBe('SMART_CONFIG_SECRET_MISSING');
  });

  it('may come from a runtime source (Atlas) as well as the environment', async () => {
    const config = await load({
      realm: 'production',
      sources: [memorySource('atlas', { db: { password: PASSWORD } })],
    });
    expect(config.value.db.password.reveal()).toBe(PASSWORD);
  });

  it('are never quoted by validation errors, whatever the check', async () => {
    const definition = defineConfig({
      schema: z.object({
        short: z.string().min(50),
        email: z.email(),
        custom: z.string().refine((v) => v.startsWith('sk_'), { message: 'bad key' }),
        number: z.number(),
      }),
      defaults: { short: secret(), email: secret(), custom: secret(), number: secret<number>() },
    });
    const leaked = 'hunter2-very-secret';
    const err = await rejection(
      loadConfig(definition, {
        service: 'orders',
        realm: 'production',
        env: { SMART_SHORT: leaked, SMART_EMAIL: leaked, SMART_CUSTOM: leaked, SMART_NUMBER: leaked },
      }),
    );
    expect(err.code).toBe('SMART_CONFIG_INVALID');
    expect(err.issues).toHaveLength(4);
    expect(err.message).not.toContain(leaked);
    expect(JSON.stringify(err.issues)).not.toContain(leaked);
    expect(inspect(err, { depth: 10 })).not.toContain(leaked);
  });

  it('run through the schema before they are wrapped, so transforms apply to the value', async () => {
    const definition = defineConfig({
      schema: z.object({ key: z.string().trim() }),
      defaults: { key: secret() },
    });
    const config = await loadConfig(definition, { service: 'orders', env: { SMART_KEY: '  abc  ' } });
    expect(config.value.key.reveal()).toBe('abc');
    expect(config.value.key).toBeInstanceOf(Secret);
  });
});
