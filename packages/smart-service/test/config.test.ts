import { memorySource } from 'smart-config';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createSmartService, currentApp, defineConfig, type Secret, secret } from '../src/index.ts';
import { build, SECRETS } from './helper.ts';

const definition = defineConfig({
  schema: z.object({
    greeting: z.string(),
    apiToken: z.string(),
    http: z.object({ port: z.number().int() }), // the service may change a service key's default
  }),
  defaults: { greeting: 'hello', apiToken: secret({ local: 'dev-token' }), http: { port: 4000 } },
  realms: { production: { greeting: 'good day' } },
});

describe('config in a smart service', () => {
  it('merges the service keys with the service’s own, typed', async () => {
    const app = await build({ config: definition });
    expectTypeOf(app.config.greeting).toEqualTypeOf<string>();
    expectTypeOf(app.config.apiToken).toEqualTypeOf<Secret<string>>();
    expectTypeOf(app.config.http.keepAliveTimeoutMs).toEqualTypeOf<number>();
    expect(app.config.greeting).toBe('hello');
    expect(app.config.apiToken.reveal()).toBe('dev-token');
    expect(app.config.http).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      keepAliveTimeoutMs: 72_000,
      bodyLimit: 1_048_576,
    });
    expect(app.config.shutdown.drainDelayMs).toBe(0); // realm local
    expect(app.realm).toBe('local');
  });

  it('takes realm overrides and environment variables for both kinds of keys', async () => {
    const app = await build({
      config: definition,
      realm: 'production',
      env: { SMART_API_TOKEN: SECRETS.apiToken, SMART_HTTP__PORT: '8080', SMART_SHUTDOWN__DRAIN_DELAY_MS: '250' },
    });
    expect(app.config.greeting).toBe('good day');
    expect(app.config.http.port).toBe(8080);
    expect(app.config.http.host).toBe('0.0.0.0');
    expect(app.config.shutdown.drainDelayMs).toBe(250);
    expect(app.smartConfig.explain('http.port')[0]).toMatchObject({
      source: 'env',
      overridden: [{ source: 'defaults', value: 4000 }],
    });
  });

  it('shows a live change on the next read, in handlers too', async () => {
    const atlas = memorySource('atlas');
    const app = await build({ config: definition, sources: [atlas] });
    app.get('/greet', async () => ({ greeting: (currentApp().config as typeof app.config).greeting }));
    expect((await app.inject('/greet')).json()).toEqual({ greeting: 'hello' });
    atlas.set({ greeting: 'hi there' });
    expect(app.config.greeting).toBe('hi there');
    expect((await app.inject('/greet')).json()).toEqual({ greeting: 'hi there' });
  });

  it('rejects a bad live value, keeps the last good config and logs the key without its value', async () => {
    const atlas = memorySource('atlas');
    const app = await build({
      config: definition,
      realm: 'testing',
      sources: [atlas],
      env: { SMART_API_TOKEN: SECRETS.apiToken },
    });
    atlas.set({ http: { port: 'eighty' }, apiToken: 42 });
    expect(app.config.http.port).toBe(4000);
    const line = app.logs.find((l) => l.code === 'SMART_CONFIG_UPDATE_REJECTED');
    expect(line).toMatchObject({ level: 50, source: 'atlas' });
    expect(String(line?.msg)).toContain('http.port');
  });

  it('fails to start with the config error when a value is invalid', async () => {
    await expect(build({ env: { SMART_HTTP__PORT: '99999' } })).rejects.toMatchObject({
      code: 'SMART_CONFIG_INVALID',
      message: expect.stringContaining('http.port (from env) [SMART_HTTP__PORT]'),
    });
  });

  it('refuses a name that is not kebab-case', async () => {
    await expect(createSmartService({ name: 'Orders Service' })).rejects.toMatchObject({
      code: 'SMART_SERVICE_INVALID_OPTION',
    });
  });
});
