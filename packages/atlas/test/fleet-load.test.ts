import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, createToken, freshDatabase, startAtlas } from './helper.ts';

// What a fleet does to one Atlas at once: many heartbeats in the same
// instant (Atlas renews them together), and many watchers woken by one
// write (Atlas reads and serialises their answer once).
let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

const admin = { token: ADMIN_TOKEN };
const instance = (n: number, body: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: 4000 + n,
  realm: 'testing',
  version: '1.0.0',
  metadata: { n },
  ttlSeconds: 30,
  ...body,
});
const register = (base: string, n: number, body: Record<string, unknown> = {}) =>
  call(base, 'PUT', `/v1/services/fleet/instances/i-${n}`, { ...admin, body: instance(n, body) });

describe('a fleet at once', () => {
  it('answers every one of many simultaneous heartbeats with its own instance, and a changed one still moves the list', async () => {
    const { base } = await startAtlas(url);
    const registered = await Promise.all(Array.from({ length: 60 }, (_, n) => register(base, n)));
    const list = await call(base, 'GET', '/v1/services/fleet/instances?realm=testing', admin);
    expect(list.body).toHaveLength(60);

    // 57 heartbeats, 20 of the same instances twice more, and 3 that changed their port, all at once.
    const beats = await Promise.all([
      ...Array.from({ length: 57 }, (_, n) => register(base, n)),
      ...Array.from({ length: 40 }, (_, n) => register(base, n % 20)),
      ...[57, 58, 59].map((n) => register(base, n, { port: 5000 + n })),
    ]);
    for (const [i, beat] of beats.entries()) {
      const n = i < 57 ? i : i < 97 ? (i - 57) % 20 : i - 97 + 57;
      expect(beat.status).toBe(200);
      expect(beat.body).toMatchObject({ id: `i-${n}`, metadata: { n } });
      expect(beat.body.registeredAt).toBe(registered[n]?.body.registeredAt);
      expect(beat.body.expiresAt).toBeGreaterThanOrEqual(registered[n]?.body.expiresAt);
    }

    const after = await call(base, 'GET', '/v1/services/fleet/instances?realm=testing', admin);
    expect(after.body).toHaveLength(60);
    const ports = new Map(after.body.map((i: { id: string; port: number }) => [i.id, i.port]));
    expect([ports.get('i-56'), ports.get('i-57'), ports.get('i-58'), ports.get('i-59')]).toEqual([
      4056, 5057, 5058, 5059,
    ]);
    // The changes moved the list's index; the plain heartbeats alone would not have.
    expect(Number(after.index)).toBeGreaterThan(Number(list.index));
  });

  it('keeps heartbeats going when one beside them carries a value the store cannot hold', async () => {
    const { base } = await startAtlas(url);
    await Promise.all(Array.from({ length: 20 }, (_, n) => register(base, 100 + n)));
    // A NUL character: Postgres cannot store it in text, etcd could.
    const [odd, ...beats] = await Promise.all([
      register(base, 200, { version: 'x\u0000y' }),
      ...Array.from({ length: 20 }, (_, n) => register(base, 100 + n)),
    ]);
    expect(beats.map((beat) => beat.status)).toEqual(Array(20).fill(200));
    expect(beats.map((beat) => beat.body.id)).toEqual(Array.from({ length: 20 }, (_, n) => `i-${100 + n}`));
    // Refused on every backend, before the store: a 400 naming the character, not a failed statement.
    expect(odd?.status).toBe(400);
    expect(JSON.stringify(odd?.body)).toContain('NUL');
  });

  it('wakes every watcher of a config with the change, each seeing only the secrets its token may', async () => {
    const { base } = await startAtlas(url);
    const catalog = await createToken(base, { name: 'reader', scope: 'catalog', realm: 'testing' });
    const own = await createToken(base, { name: 'billing', scope: 'service', service: 'billing', realm: 'testing' });
    await call(base, 'PUT', '/v1/config/billing/testing/db.password', {
      ...admin,
      body: { value: 's3', secret: true },
    });
    await call(base, 'PUT', '/v1/config/billing/testing/limit', { ...admin, body: { value: 1 } });
    const first = await call(base, 'GET', '/v1/config/billing/testing', admin);

    const tokens = Array.from({ length: 90 }, (_, w) => [ADMIN_TOKEN, catalog, own][w % 3] as string);
    const watching = tokens.map((token) =>
      call(base, 'GET', `/v1/config/billing/testing?index=${first.index}&wait=20s`, { token }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // every watcher is waiting at Atlas
    await call(base, 'PUT', '/v1/config/billing/testing/limit', { ...admin, body: { value: 2 } });
    const answers = await Promise.all(watching);

    for (const [w, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(Number(answer.index)).toBeGreaterThan(Number(first.index));
      const seesSecret = tokens[w] !== catalog;
      expect(answer.body.values).toEqual(seesSecret ? { 'db.password': 's3', limit: 2 } : { limit: 2 });
    }
    // Each answer's index is the one a fresh read gives: asking with it waits for the next change.
    const fresh = await call(base, 'GET', '/v1/config/billing/testing', admin);
    expect(answers.every((answer) => answer.index === fresh.index)).toBe(true);
  });
});
