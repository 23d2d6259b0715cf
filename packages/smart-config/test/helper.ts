import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineConfig, type LoadConfigOptions, loadConfig, secret } from '../src/index.ts';

/** A realistic service config: nesting, numbers, booleans, arrays, enums and secrets. */
export const schema = z.object({
  port: z.number().int().min(1).max(65535),
  host: z.string(),
  debug: z.boolean(),
  log: z.object({ level: z.enum(['debug', 'info', 'warn', 'error']) }),
  db: z.object({
    url: z.string().startsWith('postgres://'),
    password: z.string().min(8),
    poolMax: z.number().int().positive(),
  }),
  features: z.array(z.string()),
  bugsnag: z.object({ apiKey: z.string().optional() }),
  retry: z.object({ baseMs: z.number().default(25) }),
});

export function makeDefinition() {
  return defineConfig({
    schema,
    defaults: {
      port: 3000,
      host: '0.0.0.0',
      debug: false,
      log: { level: 'info' },
      db: { url: 'postgres://localhost/orders', password: secret({ local: 'local-password' }), poolMax: 10 },
      features: ['a'],
      bugsnag: { apiKey: secret({ optional: true }) },
      retry: {},
    },
    realms: {
      local: { log: { level: 'debug' } },
      testing: { db: { poolMax: 5 } },
      production: { db: { poolMax: 50 }, log: { level: 'warn' } },
    },
  });
}

/** A production-grade password that is long enough for the schema. */
export const PASSWORD = 'correct-horse-battery-staple';

/** Loads the helper's config with the given options and closes it after the test. */
export async function load(options: Partial<LoadConfigOptions> = {}) {
  const config = await loadConfig(makeDefinition(), { service: 'orders', env: {}, ...options });
  onTestFinished(() => config.close());
  return config;
}

/** The rejection of a promise, for asserting on coded errors. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; issues?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code: string };
  }
  throw new Error('expected the promise to reject');
}
