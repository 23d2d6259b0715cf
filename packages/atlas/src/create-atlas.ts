import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ConfigSource, Env } from 'smart-config';
import { createSmartService, defineConfig, type SmartServiceOptions, secret } from 'smart-service';
import { z } from 'zod';
import { AtlasStore } from './atlas-store.ts';
import { auth } from './auth.ts';
import { type ConfigSchemaStore, KyselyConfigSchemas, MemoryConfigSchemas } from './config-schemas.ts';
import { ConfigValidator } from './config-validation.ts';
import { badRequest } from './errors.ts';
import { configRoutes } from './routes/config.ts';
import { configSchemaRoutes } from './routes/config-schema.ts';
import { instanceRoutes } from './routes/instances.ts';
import { holdsNul } from './routes/shared.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { parseMasterKey, SecretBox } from './secret-box.ts';
import type { AuditEntry } from './store.ts';
import { openBackend, storeConfig } from './stores/open-backend.ts';

// A fixed development key, used only in realm local: elsewhere the key must be set.
const LOCAL_MASTER_KEY = '00c96686e6bc656fea7e6d3ffcb167967fdba2daaafa85f7d5c1099be1359902';

/** Atlas's own config (besides the service keys: `http.*`, `db.*`, ...). */
export const atlasConfig = defineConfig({
  schema: z.object({
    http: z.object({ port: z.number().int().min(0).max(65535) }),
    atlas: z.object({
      /** 32 bytes (64 hex characters or base64): encrypts secrets at rest. */
      masterKey: z.string().min(1),
      /** A bootstrap admin token, to create the others. */
      adminToken: z.string().min(16).optional(),
      /** Require tokens; default: on everywhere but realm local. */
      auth: z.boolean().optional(),
      /** The longest a blocking query waits. */
      maxWaitMs: z.number().int().positive().default(60_000),
      /** The longest TTL an instance may ask for. */
      maxTtlMs: z.number().int().positive().default(3_600_000),
      /** Expired instances are deleted this long after their TTL passed. */
      reapAfterMs: z.number().int().min(0).default(60_000),
      /** How often expiry is checked. */
      expiryIntervalMs: z.number().int().positive().default(500),
      /**
       * Per realm, the only hosts its instances may register with: CIDRs, exact names, `*.suffix`.
       * A realm without a list takes any host but the always-refused ones (and loopback outside `local`).
       */
      allowedHosts: z.record(z.string(), z.array(z.string().min(1))).default({}),
      ...storeConfig,
    }),
  }),
  defaults: {
    http: { port: 4100 },
    atlas: {
      masterKey: secret({ local: LOCAL_MASTER_KEY }),
      adminToken: secret({ optional: true }),
      etcd: { password: secret({ optional: true }) },
    },
  },
});

/** Options of `createAtlas`. */
export interface AtlasOptions {
  readonly realm?: string;
  readonly env?: Env;
  /**
   * Where the embedded database (realm local without `db.url`) keeps its
   * data. Default `SMART_DB__EMBEDDED_DIR`, then `.smart/atlas` under the
   * working directory: the folder Atlas was started from, never inside the
   * installed package. One process at a time may use it.
   */
  readonly dataDir?: string;
  readonly sources?: readonly ConfigSource[];
  readonly logDestination?: SmartServiceOptions['logDestination'];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Atlas's storage. */
    readonly atlasStore: AtlasStore;
    /** Aborted when Atlas begins to shut down: blocking queries answer at once. */
    readonly atlasQuiesce: AbortSignal;
  }
}

// The package's folder (src/.. in the workspace, dist/.. once published): its migrations are under it.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(findManifest(ROOT), 'utf8')) as { version: string }).version;

function findManifest(from: string): string {
  const here = join(from, 'package.json');
  return existsSync(here) ? here : join(from, '..', 'package.json');
}

/**
 * An Atlas server: a smart service (so it has health, metrics, logs and
 * graceful shutdown like every other) with instances, config and tokens
 * under `/v1`, stored in etcd (`atlas.store = "etcd"`), Postgres (`db.url`) or, in realm `local` with no
 * URL, in an embedded database.
 *
 * @example
 * const atlas = await createAtlas();
 * await atlas.start(); // http://127.0.0.1:4100
 */
export async function createAtlas(options: AtlasOptions = {}): Promise<FastifyInstance> {
  const { dataDir, ...serviceOptions } = options;
  const env = options.env ?? process.env;
  // etcd needs no database; the choice is read before the service (and its db plugin) exists.
  const sql = (env.SMART_ATLAS__STORE ?? 'postgres') !== 'etcd';
  const app = await createSmartService({
    name: 'atlas',
    version: VERSION,
    config: atlasConfig,
    db: sql,
    // The migrations ship with the package; the data stays where Atlas was started.
    root: ROOT,
    ...serviceOptions,
    env: { ...env, SMART_DB__EMBEDDED_DIR: resolve(dataDir ?? env.SMART_DB__EMBEDDED_DIR ?? '.smart/atlas') },
  });
  const settings = app.config.atlas;
  if (sql) await app.migrate();

  const box = new SecretBox(parseMasterKey(settings.masterKey.reveal()));
  const backend = await openBackend(app, settings);
  const store = new AtlasStore(backend);
  app.decorate('atlasStore', store);
  // Blocking queries answer at once when Atlas begins to shut down: a watcher
  // then reconnects (to another Atlas on the same store) instead of holding
  // the shutdown until its wait runs out.
  const quiesce = new AbortController();
  app.decorate('atlasQuiesce', quiesce.signal);
  app.onShutdown('answer blocking queries', () => quiesce.abort());
  app.addHook('preClose', async () => quiesce.abort());

  const authOn = settings.auth ?? app.realm !== 'local';
  if (!authOn)
    app.log.warn('atlas auth is OFF: every caller is an admin (default in realm local; set atlas.auth=true)');
  if (settings.masterKey.reveal() === LOCAL_MASTER_KEY) app.log.warn('atlas uses the local development master key');

  // From 0: instances that expired while no Atlas ran (not reaped yet) are announced at the first check.
  let lastExpiry = 0;
  const expiry = setInterval(() => {
    const now = Date.now();
    store
      .expire(lastExpiry, now, now - settings.reapAfterMs)
      .then(() => {
        lastExpiry = now;
      })
      .catch((err: Error) => app.log.warn({ err: { message: err.message } }, 'instance expiry failed'));
  }, settings.expiryIntervalMs);
  expiry.unref();
  app.addHook('onClose', async () => {
    clearInterval(expiry);
    await store.close();
  });

  const context = {
    store,
    maxWaitMs: settings.maxWaitMs,
    maxTtlMs: settings.maxTtlMs,
    // Read per registration: a change to atlas.allowedHosts applies live.
    allowedHosts: (realm: string) => app.config.atlas.allowedHosts[realm],
  };
  // A string with a NUL character is refused before any route runs (JSON bodies are small here).
  // (A callback hook: every heartbeat passes it, and an async one costs a promise each.)
  app.addHook('preValidation', (request, _reply, done) => {
    done(holdsNul(request.body) ? badRequest('a string in the body holds a NUL character') : undefined);
  });
  await app.register(auth, { store, enabled: authOn, adminToken: settings.adminToken?.reveal() });
  await app.register(instanceRoutes, context);
  // Published config schemas: in the database, or in etcd with the rest; in memory only for a backend without a place for them.
  const schemaContext = {
    schemas: sql
      ? new KyselyConfigSchemas(app.db as never)
      : ((backend as { configSchemas?: ConfigSchemaStore }).configSchemas ?? new MemoryConfigSchemas()),
    validator: new ConfigValidator(),
    audit: (entry: AuditEntry) => store.tokens.audit(entry),
  };
  await app.register(configSchemaRoutes, schemaContext);
  await app.register(configRoutes, { ...context, box, schemaContext });
  await app.register(tokenRoutes, context);
  return app;
}
