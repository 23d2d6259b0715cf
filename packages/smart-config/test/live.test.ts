import { describe, expect, it } from 'vitest';
import { type ConfigChange, type ConfigSource, memorySource, type UpdateRejectedError } from '../src/index.ts';
import { load, PASSWORD, rejection } from './helper.ts';

describe('live updates', () => {
  it('accepts a valid update: new snapshot, change event with the changed keys and both snapshots', async () => {
    const atlas = memorySource('atlas', { db: { poolMax: 20 } });
    const config = await load({ sources: [atlas] });
    const before = config.value;
    const changes: ConfigChange<typeof config.value>[] = [];
    config.on('change', (change) => changes.push(change));

    atlas.set({ db: { poolMax: 40 }, log: { level: 'warn' }, features: ['a'] });

    expect(changes).toHaveLength(1);
    expect(changes[0]?.changed).toEqual(['log.level', 'db.poolMax']); // features: same value, not a change
    expect(changes[0]?.previous).toBe(before);
    expect(changes[0]?.next).toBe(config.value);
    expect(before.db.poolMax).toBe(20); // the old snapshot is untouched
    expect(config.value.db.poolMax).toBe(40);
    expect(config.explain('log.level')[0]).toMatchObject({ source: 'atlas', value: 'warn' });
  });

  it('rejects an invalid update, keeps the last good config and emits an error naming key and source', async () => {
    const atlas = memorySource('atlas', { db: { poolMax: 20 } });
    const config = await load({ sources: [atlas] });
    const good = config.value;
    const errors: UpdateRejectedError[] = [];
    const changes: unknown[] = [];
    config.on('error', (err) => errors.push(err as UpdateRejectedError));
    config.on('change', (change) => changes.push(change));

    atlas.set({ db: { poolMax: -1 }, port: 'http' });

    expect(config.value).toBe(good);
    expect(changes).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('SMART_CONFIG_UPDATE_REJECTED');
    expect(errors[0]?.source).toBe('atlas');
    expect(errors[0]?.issues).toEqual([
      expect.objectContaining({ key: 'port', layer: 'atlas' }),
      expect.objectContaining({ key: 'db.poolMax', layer: 'atlas', message: expect.stringContaining('Too small') }),
    ]);
    expect(config.explain('db.poolMax')[0]).toMatchObject({ source: 'atlas', value: 20 });

    // A later good update applies on top of the last good one, not the rejected one.
    atlas.set({ db: { poolMax: 30 } });
    expect(config.value.db.poolMax).toBe(30);
    expect(config.value.port).toBe(3000);
  });

  it('treats an update that only repeats current values as no change', async () => {
    const atlas = memorySource('atlas', { port: 4000 });
    const config = await load({ sources: [atlas] });
    const before = config.value;
    let changes = 0;
    config.on('change', () => changes++);
    atlas.set({ port: 4000 });
    expect(changes).toBe(0);
    expect(config.value).toBe(before);
  });

  it('notices a changed secret without exposing it in the event', async () => {
    const atlas = memorySource('atlas', { db: { password: PASSWORD } });
    const config = await load({ realm: 'production', sources: [atlas] });
    const changes: ConfigChange<typeof config.value>[] = [];
    config.on('change', (change) => changes.push(change));
    atlas.set({ db: { password: `${PASSWORD}-rotated` } });
    expect(changes[0]?.changed).toEqual(['db.password']);
    expect(JSON.stringify(changes[0])).not.toContain(PASSWORD);
    expect(config.value.db.password.reveal()).toBe(`${PASSWORD}-rotated`);
  });

  it('rejects an update that removes a required secret', async () => {
    const atlas = memorySource('atlas', { db: { password: PASSWORD } });
    const config = await load({ realm: 'production', sources: [atlas] });
    const errors: Error[] = [];
    config.on('error', (err) => errors.push(err));
    atlas.set({});
    expect(errors[0]?.message).toContain('db.password');
    expect(config.value.db.password.reveal()).toBe(PASSWORD);
  });

  it('stops listening after close(), and calls every unwatch', async () => {
    let unwatched = 0;
    const atlas = memorySource('atlas');
    const counting: ConfigSource = {
      name: 'counting',
      load: () => ({}),
      watch: () => () => {
        unwatched++;
      },
    };
    const config = await load({ sources: [atlas, counting] });
    let changes = 0;
    config.on('change', () => changes++);
    await config.close();
    await config.close();
    atlas.set({ port: 5000 });
    expect(changes).toBe(0);
    expect(config.value.port).toBe(3000);
    expect(unwatched).toBe(1);
  });

  it('lets a listener unsubscribe', async () => {
    const atlas = memorySource('atlas');
    const config = await load({ sources: [atlas] });
    let changes = 0;
    const off = config.on('change', () => changes++);
    atlas.set({ port: 5001 });
    off();
    atlas.set({ port: 5002 });
    expect(changes).toBe(1);
    expect(config.value.port).toBe(5002);
  });

  it('turns a rejected update into a process warning when nobody listens for errors', async () => {
    const atlas = memorySource('atlas');
    const config = await load({ sources: [atlas] });
    const warned = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
    atlas.set({ port: 0 });
    const warning = await warned;
    expect(warning.code).toBe('SMART_CONFIG_UPDATE_REJECTED');
    expect(warning.message).toContain('port');
    expect(config.value.port).toBe(3000);
  });

  it('fails the load with a coded error when a watch cannot start', async () => {
    const broken: ConfigSource = {
      name: 'atlas',
      load: () => ({}),
      watch: () => {
        throw new Error('watch refused');
      },
    };
    const err = await rejection(load({ sources: [broken] }));
    expect(err.code).toBe('SMART_CONFIG_SOURCE_FAILED');
  });
});
