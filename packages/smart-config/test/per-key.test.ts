import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type ConfigChange, memorySource, type UpdateRejectedError } from '../src/index.ts';
import { load, PASSWORD, rejection } from './helper.ts';

/** Atlas as a runtime source: judged key by key. */
const atlas = (values: Record<string, unknown>) => memorySource('atlas', values, { perKey: true });

describe('a runtime source (Atlas) judged key by key', () => {
  it('at start: a bad key is refused and named, the key runs on its lower layers, every other key applies', async () => {
    const config = await load({
      realm: 'testing',
      env: { SMART_PORT: '8080', SMART_DB__PASSWORD: PASSWORD },
      sources: [atlas({ port: 'http', db: { poolMax: -1 }, log: { level: 'warn' }, features: ['x', 'y'] })],
    });
    expect(config.value.port).toBe(8080); // env, under the refused Atlas value
    expect(config.value.db.poolMax).toBe(5); // realm testing's, under the refused Atlas value
    expect(config.value.log.level).toBe('warn');
    expect(config.value.features).toEqual(['x', 'y']);
    expect(config.rejected).toEqual([
      expect.objectContaining({ key: 'port', layer: 'atlas', message: expect.stringContaining('not a number') }),
      expect.objectContaining({ key: 'db.poolMax', layer: 'atlas', message: expect.stringContaining('Too small') }),
    ]);
    expect(config.explain('db.poolMax')[0]).toMatchObject({ source: 'realm:testing', value: 5 });
  });

  it('live: the good keys of an update apply, a bad key keeps its last good value and is reported, until fixed', async () => {
    const source = atlas({ db: { poolMax: 20 } });
    const config = await load({ sources: [source] });
    const changes: ConfigChange<typeof config.value>[] = [];
    const errors: UpdateRejectedError[] = [];
    config.on('change', (change) => changes.push(change));
    config.on('error', (err) => errors.push(err as UpdateRejectedError));

    source.set({ db: { poolMax: 'lots' }, log: { level: 'error' } });
    expect(config.value.log.level).toBe('error');
    expect(config.value.db.poolMax).toBe(20); // the last good value, not the default
    expect(changes.map((change) => change.changed)).toEqual([['log.level']]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('SMART_CONFIG_UPDATE_REJECTED');
    expect(errors[0]?.issues).toEqual([expect.objectContaining({ key: 'db.poolMax', layer: 'atlas' })]);
    expect(config.rejected.map((issue) => issue.key)).toEqual(['db.poolMax']);

    // Other changes keep applying while the bad key stays in Atlas.
    source.set({ db: { poolMax: 'lots' }, log: { level: 'warn' } });
    expect(config.value.log.level).toBe('warn');
    expect(config.value.db.poolMax).toBe(20);

    source.set({ db: { poolMax: 30 }, log: { level: 'warn' } });
    expect(config.value.db.poolMax).toBe(30);
    expect(config.rejected).toEqual([]);
  });

  it('a refused secret from Atlas is named without its value', async () => {
    const config = await load({
      realm: 'production',
      env: { SMART_DB__PASSWORD: PASSWORD },
      sources: [atlas({ db: { password: 'short' } })],
    });
    expect(config.value.db.password.reveal()).toBe(PASSWORD);
    expect(config.rejected).toEqual([expect.objectContaining({ key: 'db.password', layer: 'atlas' })]);
    expect(inspect(config.rejected, { depth: 5 })).not.toContain('short');
  });

  it('the environment and the code stay strict: a bad env value still fails the start', async () => {
    const err = await rejection(load({ env: { SMART_PORT: 'http' }, sources: [atlas({ log: { level: 'warn' } })] }));
    expect(err.code).toBe('SMART_CONFIG_INVALID');
  });

  it('a required key that only the refused value set fails the start, naming it', async () => {
    const err = await rejection(load({ realm: 'production', sources: [atlas({ db: { password: 'short' } })] }));
    expect(err.code).toBe('SMART_CONFIG_SECRET_MISSING');
    expect(err.message).toContain('db.password');
  });
});
