import { describe, expect, it } from 'vitest';
import { memorySource } from '../src/index.ts';
import { load, PASSWORD, rejection } from './helper.ts';

describe('explain()', () => {
  it('tells each key its value, the layer it came from and the layers it overrode, highest first', async () => {
    const config = await load({
      realm: 'production',
      env: { SMART_DB__POOL_MAX: '20', SMART_DB__PASSWORD: PASSWORD },
      sources: [memorySource('atlas', { db: { poolMax: 30 } })],
    });
    expect(config.explain('db.poolMax')).toEqual([
      {
        key: 'db.poolMax',
        value: 30,
        source: 'atlas',
        overridden: [
          { source: 'env', value: '20' },
          { source: 'realm:production', value: 50 },
          { source: 'defaults', value: 10 },
        ],
        envVar: 'SMART_DB__POOL_MAX',
        secret: false,
      },
    ]);
  });

  it('covers every key when called without one, and the keys under a prefix', async () => {
    const config = await load();
    expect(config.explain().map((entry) => entry.key)).toEqual([
      'port',
      'host',
      'debug',
      'log.level',
      'db.url',
      'db.password',
      'db.poolMax',
      'features',
      'bugsnag.apiKey',
      'retry.baseMs',
    ]);
    expect(config.explain('db').map((entry) => entry.key)).toEqual(['db.url', 'db.password', 'db.poolMax']);
  });

  it('names the schema as the source of a zod default, and "unset" for an unset optional key', async () => {
    const config = await load();
    expect(config.explain('retry.baseMs')[0]).toMatchObject({ source: 'schema', value: 25 });
    expect(config.explain('bugsnag.apiKey')[0]).toMatchObject({ source: 'unset', value: undefined, secret: true });
  });

  it('redacts secrets, in the value and in what they overrode', async () => {
    const config = await load({
      env: { SMART_DB__PASSWORD: 'from-the-environment' },
      sources: [memorySource('atlas', { db: { password: PASSWORD } })],
    });
    const [entry] = config.explain('db.password');
    expect(entry).toEqual({
      key: 'db.password',
      value: '[redacted]',
      source: 'atlas',
      overridden: [{ source: 'env', value: '[redacted]' }],
      envVar: 'SMART_DB__PASSWORD',
      secret: true,
    });
    expect(JSON.stringify(config.explain())).not.toContain(PASSWORD);
    expect(JSON.stringify(config.explain())).not.toContain('from-the-environment');
  });

  it('throws a coded error for a key the schema does not have', async () => {
    const config = await load();
    const err = await rejection(Promise.resolve().then(() => config.explain('db.poolmax')));
    expect(err.code).toBe('SMART_CONFIG_UNKNOWN_KEY');
  });
});
