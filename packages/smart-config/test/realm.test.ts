import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, loadConfig } from '../src/index.ts';
import { load, PASSWORD, rejection } from './helper.ts';

describe('realms', () => {
  it('applies only the selected realm overrides', async () => {
    const production = await load({ realm: 'production', env: { SMART_DB__PASSWORD: PASSWORD } });
    expect(production.value.db.poolMax).toBe(50);
    expect(production.value.log.level).toBe('warn');

    const testing = await load({ realm: 'testing', env: { SMART_DB__PASSWORD: PASSWORD } });
    expect(testing.value.db.poolMax).toBe(5);
    expect(testing.value.log.level).toBe('info');
  });

  it('overrides one nested key and keeps its siblings from the defaults', async () => {
    const config = await load({ realm: 'production', env: { SMART_DB__PASSWORD: PASSWORD } });
    expect(config.value.db.url).toBe('postgres://localhost/orders');
    expect(config.explain('db.url')[0]?.source).toBe('defaults');
    expect(config.explain('db.poolMax')[0]).toMatchObject({ source: 'realm:production', value: 50 });
  });

  it('refuses a malformed realm name with a coded error', async () => {
    for (const realm of ['Prod', '../etc', '', 'a b']) {
      const err = await rejection(load({ realm }));
      expect(err.code).toBe('SMART_CONFIG_INVALID_OPTION');
    }
    const fromEnv = await rejection(load({ env: { SMART_REALM: 'PRODUCTION' } }));
    expect(fromEnv.message).toContain('realm "PRODUCTION"');
  });

  it('refuses a malformed service name', async () => {
    const definition = defineConfig({ schema: z.object({ a: z.number() }), defaults: { a: 1 } });
    const err = await rejection(loadConfig(definition, { service: 'Orders Service' }));
    expect(err.code).toBe('SMART_CONFIG_INVALID_OPTION');
    expect(err.message).toContain('service');
  });
});
