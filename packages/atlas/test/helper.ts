import { randomUUID } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Etcd3 } from 'etcd3';
import { testDatabase } from 'smart-service/testing';
import { afterAll, inject, onTestFinished } from 'vitest';
import { type AtlasOptions, createAtlas } from '../src/index.ts';

export const MASTER_KEY = 'a'.repeat(64);
export const ADMIN_TOKEN = 'admin-token-for-the-test-suite-0001';

/** Every log line any Atlas of this file wrote. */
export const logLines: string[] = [];

/**
 * The backend this run's Atlases use: `postgres` (the default), or `etcd`
 * (the atlas-etcd project sets ATLAS_TEST_STORE and starts an etcd member).
 */
export const backend = (['etcd', 'pglite'] as const).find((b) => b === process.env.ATLAS_TEST_STORE) ?? 'postgres';

/**
 * The realm the suite's Atlases run in: `testing`, or `local` on PGlite (the
 * embedded database is for realm local only; auth is turned on there).
 */
export const atlasRealm = backend === 'pglite' ? 'local' : 'testing';

/**
 * A store of this test file's own, emptied after it: a Postgres database,
 * or on etcd a key prefix (`etcd:/atlas-test-<id>/`).
 */
export async function freshDatabase(): Promise<string> {
  if (backend === 'etcd') return freshPrefix();
  if (backend === 'pglite') return freshPglite();
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the suite with pnpm test');
  const db = await testDatabase(base, 'atlas');
  afterAll(() => db.drop());
  return db.url;
}

async function freshPrefix(): Promise<string> {
  const prefix = `/atlas-test-${randomUUID().slice(0, 8)}/`;
  afterAll(async () => {
    const client = new Etcd3({ hosts: inject('etcdEndpoints').split(',') });
    await client.delete().prefix(prefix);
    client.close();
  });
  return `etcd:${prefix}`;
}

async function freshPglite(): Promise<string> {
  // Under the global setup's folder, which its teardown removes whole.
  const dir = join(inject('pgliteRoot'), randomUUID());
  await cp(inject('pgliteTemplate'), dir, { recursive: true });
  return `pglite:${dir}`;
}

/** The env that points an Atlas at `store` (from `freshDatabase`). */
export function storeEnv(store: string): Record<string, string> {
  if (store.startsWith('pglite:'))
    return { SMART_DB__EMBEDDED_DIR: store.slice('pglite:'.length), SMART_ATLAS__AUTH: 'true' };
  if (!store.startsWith('etcd:')) return { SMART_DB__URL: store };
  return {
    SMART_ATLAS__STORE: 'etcd',
    SMART_ATLAS__ETCD__ENDPOINTS: inject('etcdEndpoints'),
    SMART_ATLAS__ETCD__PREFIX: store.slice('etcd:'.length),
  };
}

/** A real Atlas on `url` (realm testing, auth on), closed after the test. */
export async function startAtlas(url: string, options: AtlasOptions & { extraEnv?: Record<string, string> } = {}) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const atlas = await createAtlas({
    realm: atlasRealm,
    logDestination: stream,
    ...options,
    env: {
      ...storeEnv(url),
      SMART_ATLAS__MASTER_KEY: MASTER_KEY,
      SMART_ATLAS__ADMIN_TOKEN: ADMIN_TOKEN,
      SMART_ATLAS__EXPIRY_INTERVAL_MS: '100',
      // The suite's instances register on loopback in realm testing: allowed there only when listed.
      SMART_ATLAS__ALLOWED_HOSTS: JSON.stringify({ testing: ['127.0.0.0/8', '::1/128'] }),
      // A loaded test machine stalls the event loop the way overload does: no shedding in tests.
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
      ...options.extraEnv,
    },
  });
  onTestFinished(() => atlas.close());
  const base = await atlas.listen({ port: 0, host: '127.0.0.1' });
  return { atlas, base };
}

/** A JSON call to Atlas over real HTTP. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, index: res.headers.get('x-atlas-index'), body: text ? JSON.parse(text) : undefined };
}

/** Creates a token with the bootstrap admin token; returns the token text. */
export async function createToken(
  base: string,
  spec: { name: string; scope: string; realm: string; service?: string },
) {
  const res = await call(base, 'POST', '/v1/tokens', { token: ADMIN_TOKEN, body: spec });
  if (res.status !== 201) throw new Error(`token not created: ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}
