import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Dialect, Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { EmbeddedDbInUseError } from '../errors.ts';
import { migrate } from '../migrations.ts';
import { acquirePidLock } from '../pid-lock.ts';
import { querySpans } from './tracing-dependencies.ts';

/** Your database's tables, for typed queries: augment it (`declare module 'smart-service'`). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by users through declaration merging.
export interface Database {}

/** Settings of the database (the `db.*` config keys, resolved). */
export interface DbOptions {
  /** A postgres:// URL, or undefined for the embedded database. */
  readonly url: string | undefined;
  readonly embeddedDir: string;
  readonly poolMax: number;
  readonly connectionTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly migrationsDir: string;
  readonly migrateAtStart: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Kysely over Postgres (or the embedded database in realm `local`). */
    readonly db: Kysely<Database>;
    /** Applies pending migrations from `db.migrationsDir`; returns the names applied. */
    migrate(): Promise<string[]>;
    /** The migrations applied when the app started (`db.migrateAtStart`). */
    readonly migratedAtStart: readonly string[];
  }
}

function postgresDialect(app: FastifyInstance, options: DbOptions & { url: string }): Dialect {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    application_name: app.serviceInfo.name,
    ...(options.statementTimeoutMs > 0 ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client that loses its connection (restart, pg_terminate_backend)
  // emits on the pool; unheard, that error would crash the process.
  pool.on('error', (err) => {
    app.log.warn(
      { err: { message: err.message, code: (err as { code?: string }).code } },
      'idle database connection lost',
    );
  });
  return new PostgresDialect({ pool });
}

// PGlite is one process's database: two processes on one folder silently
// diverge and corrupt it. A pid file beside the folder keeps a second one out
// and names the process that holds it.
async function embeddedDialect(app: FastifyInstance, dir: string): Promise<Dialect> {
  const release = acquirePidLock(`${dir}.pid`, (pid) => new EmbeddedDbInUseError(dir, pid));
  app.addHook('onClose', async () => release());
  await mkdir(dir, { recursive: true });
  // Loaded only when used: most production services never need it.
  const { PGlite } = await import('@electric-sql/pglite');
  app.log.info({ dir }, 'using the embedded database (PGlite): set db.url to use Postgres');
  return new PGliteDialect({ pglite: () => PGlite.create(dir) });
}

/**
 * `app.db`: Kysely over a `pg` pool with timeouts and an error listener, or
 * over PGlite persisted under the service's folder when realm `local` has no
 * URL. Registers a critical `db` readiness check, and applies migrations at
 * start when asked to (by default in `local`).
 */
export const db = fp(
  async function db(app: FastifyInstance, options: DbOptions) {
    const dialect = options.url
      ? postgresDialect(app, { ...options, url: options.url })
      : await embeddedDialect(app, options.embeddedDir);
    // A span per query inside a traced request (statement only, never its parameters).
    const kysely = new Kysely<Database>({ dialect, ...(app.tracingEnabled ? { log: querySpans(app.tracer) } : {}) });

    app.decorate('db', kysely);
    app.decorate('migrate', () => migrate(kysely, options.migrationsDir, app.log));
    app.healthCheck('db', async () => {
      await sql`select 1`.execute(kysely);
    });
    app.addHook('onClose', async () => {
      await kysely.destroy();
    });

    app.decorate('migratedAtStart', options.migrateAtStart ? await app.migrate() : []);
  },
  { name: 'smart-db', dependencies: ['smart-health'] },
);
