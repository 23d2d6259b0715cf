import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Secret } from 'smart-config';
import { z } from 'zod';
import type { StoreBackend } from '../store.ts';
import { KyselyStore } from './kysely-store.ts';

/**
 * The `atlas.store` and `atlas.etcd.*` keys of Atlas's config: which backend
 * keeps Atlas's data. `postgres` is the service's `db.*` (Postgres, or PGlite
 * in realm `local` without `db.url`); `etcd` is an etcd v3 cluster.
 */
export const storeConfig = {
  store: z.enum(['postgres', 'etcd']).default('postgres'),
  etcd: z
    .object({
      /** Comma-separated client URLs of the cluster's members. */
      endpoints: z.string().min(1).default('http://127.0.0.1:2379'),
      /** Every key Atlas writes starts with this, so one cluster can hold several Atlases. */
      prefix: z.string().min(1).default('/atlas/'),
      /** A request to etcd fails after this (then the next member is tried). */
      timeoutMs: z.number().int().positive().default(5_000),
      /** etcd's own authentication (a user with read-write on the prefix); the password is a secret. */
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      /** For `https://` endpoints: the CA that signed the members' certificates (PEM file). */
      caFile: z.string().min(1).optional(),
    })
    .prefault({}),
};

interface StoreSettings {
  readonly store: 'postgres' | 'etcd';
  readonly etcd: {
    readonly endpoints: string;
    readonly prefix: string;
    readonly timeoutMs: number;
    readonly username?: string | undefined;
    readonly password?: Secret<string> | undefined;
    readonly caFile?: string | undefined;
  };
}

/** Opens the backend `settings.store` names, on `app`'s database for `postgres`. */
export async function openBackend(app: FastifyInstance, settings: StoreSettings): Promise<StoreBackend> {
  if (settings.store === 'etcd') {
    const { EtcdStore } = await import('./etcd-store.ts');
    const endpoints = settings.etcd.endpoints
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    app.log.info({ endpoints, prefix: settings.etcd.prefix }, 'atlas stores its data in etcd');
    const { username, password, caFile } = settings.etcd;
    return EtcdStore.open({
      endpoints,
      prefix: settings.etcd.prefix,
      timeoutMs: settings.etcd.timeoutMs,
      ...(username && password ? { auth: { username, password: password.reveal() } } : {}),
      ...(caFile ? { caCertificate: await readFile(caFile) } : {}),
      onError: (err) => app.log.warn({ err: { message: err.message } }, 'atlas etcd watch interrupted: resuming'),
    });
  }
  const url = (app.config as { db: { url?: Secret<string> } }).db.url?.reveal();
  return KyselyStore.open(app.db, {
    listenUrl: url,
    onError: (err) => app.log.warn({ err: { message: err.message } }, 'atlas LISTEN connection lost: re-listening'),
  });
}
