import { describe, expect, it } from 'vitest';
import { memorySource } from '../src/index.ts';
import { load, PASSWORD } from './helper.ts';

describe('layer precedence', () => {
  it('applies defaults, then realm, then env, then sources in their order', async () => {
    const low = memorySource('low', { port: 4001, host: 'low.internal' });
    const high = memorySource('high', { port: 4002 });
    const config = await load({
      realm: 'production',
      env: { SMART_PORT: '4000', SMART_LOG__LEVEL: 'error', SMART_DEBUG: 'true', SMART_DB__PASSWORD: PASSWORD },
      sources: [low, high],
    });

    expect(config.value.port).toBe(4002); // high beats low, env, defaults
    expect(config.value.host).toBe('low.internal'); // low beats defaults
    expect(config.value.log.level).toBe('error'); // env beats realm
    expect(config.value.db.poolMax).toBe(50); // realm beats defaults
    expect(config.value.debug).toBe(true); // env beats defaults
    expect(config.value.features).toEqual(['a']); // defaults when nobody overrides
    expect(config.value.retry.baseMs).toBe(25); // the schema's own default when no layer sets it
  });

  it('replaces arrays as a whole rather than merging them', async () => {
    const config = await load({ sources: [memorySource('atlas', { features: ['b', 'c'] })] });
    expect(config.value.features).toEqual(['b', 'c']);
  });

  it('takes dotted keys from sources as well as nested objects', async () => {
    const config = await load({ sources: [memorySource('atlas', { 'db.poolMax': 33, log: { level: 'warn' } })] });
    expect(config.value.db.poolMax).toBe(33);
    expect(config.value.log.level).toBe('warn');
    expect(config.value.db.url).toBe('postgres://localhost/orders');
  });

  it('reads the realm from SMART_REALM, and defaults to local', async () => {
    const fromEnv = await load({ env: { SMART_REALM: 'testing', SMART_DB__PASSWORD: PASSWORD } });
    expect(fromEnv.realm).toBe('testing');
    expect(fromEnv.value.db.poolMax).toBe(5);

    const byDefault = await load();
    expect(byDefault.realm).toBe('local');
    expect(byDefault.value.log.level).toBe('debug');
  });

  it('accepts any realm name, with no overrides when the definition has none for it', async () => {
    const config = await load({ realm: 'staging-eu', env: { SMART_DB__PASSWORD: PASSWORD } });
    expect(config.realm).toBe('staging-eu');
    expect(config.value.db.poolMax).toBe(10);
    expect(config.value.log.level).toBe('info');
  });
});
