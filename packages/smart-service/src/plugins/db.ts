import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Dialect, Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DependencyUnavailableError, EmbeddedDbInUseError } from '../errors.ts';
import { migrate } from '../migrations.ts';
import { acquirePidLock } from '../pid-lock.ts';
import { isSocketErrorOn, UNREACHABLE } from './dependencies.ts';
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
  /** A query waiting longer for a pooled connection fails with 503. */
  readonly acquireTimeoutMs: number;
  /** The readiness check's timeout (its own connection, outside the pool). */
  readonly healthTimeoutMs?: number;
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

// SQLSTATEs that mean the server went away or will not take us: admin or
// crash shutdown (pg_terminate_backend is 57P01), starting up, too many
// connections, and class 08 (connection exceptions).
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly)/;

/** Why `err` means Postgres (at `port`) is unavailable, or undefined for a query's own error. */
export function dbUnavailability(err: unknown, port: number): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_STATES.has(code)) return err.message;
  if (UNAVAILABLE_MESSAGES.test(err.message)) return err.message;
  if (isSocketErrorOn(err, port, UNREACHABLE)) return err.message;
  return undefined;
}

// Kysely's pool with a deadline on waiting for a connection when the pool is
// full: pg's own connectionTimeoutMillis covers opening a new one (a refused
// connection fails at once), and a saturated pool would otherwise queue a
// request for as long. A connection that arrives after the deadline goes
// straight back. While the database is known down (`failFast`), a query
// fails at once, before it takes or opens a connection: a blackholed server
// would otherwise cost each one db.connectionTimeoutMs.
function withAcquireTimeout(pool: pg.Pool, timeoutMs: number, failFast: () => Error | undefined) {
  // pg's pool listens for a client's 'error' only while it is idle: a backend
  // terminated mid-query would emit one on a checked-out client, unheard, and
  // crash the process. The query itself rejects with the same error.
  const guarded = new WeakSet<pg.PoolClient>();
  const guard = (client: pg.PoolClient) => {
    if (!guarded.has(client)) {
      guarded.add(client);
      client.on('error', () => {});
    }
    return client;
  };
  const connect = (): Promise<pg.PoolClient> => {
    const refused = failFast();
    if (refused) return Promise.reject(refused);
    // Room in the pool: an idle connection, or a new one (bounded by db.connectionTimeoutMs).
    const full = pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? 10);
    if (timeoutMs <= 0 || !full) return pool.connect().then(guard);
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        const reason = `no pooled connection within ${timeoutMs} ms (pool exhausted: ${pool.totalCount} in use, ${pool.waitingCount} waiting)`;
        // Busy, not down: the database answers, just not soon enough for this request.
        reject(new DependencyUnavailableError('db', reason, { busy: true }));
      }, timeoutMs);
      pool.connect().then(
        (client) => {
          clearTimeout(timer);
          if (late) client.release();
          else resolve(guard(client));
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (!late) reject(err);
        },
      );
    });
  };
  return { connect, end: () => pool.end(), options: pool.options, Client: pg.Client } as unknown as pg.Pool;
}

// The readiness check's own connection, outside the pool: a busy pool is not a dead database.
function probeFor(options: DbOptions & { url: string }, name: string) {
  return async () => {
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.healthTimeoutMs ?? 2_000,
      application_name: `${name}:health`,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      await client.end().catch(() => {});
    }
  };
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
  const port = Number(new URL(options.url).port || 5432);
  const probe = probeFor(options, app.serviceInfo.name);
  app.dependencies.register('db', {
    classify: (err) => dbUnavailability(err, port),
    // Up again when the database answers and nothing waits for a connection.
    probe: async () => {
      await probe();
      if (pool.waitingCount > 0) throw new Error('the pool is still exhausted');
    },
  });
  app.healthCheck('db', probe);
  return new PostgresDialect({
    pool: withAcquireTimeout(pool, options.acquireTimeoutMs, () => app.dependencies.failFast('db')),
  });
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
    if (!options.url) {
      app.healthCheck('db', async () => {
        await sql`select 1`.execute(kysely);
      });
    }
    app.addHook('onClose', async () => {
      await kysely.destroy();
    });

    app.decorate('migratedAtStart', options.migrateAtStart ? await app.migrate() : []);
  },
  { name: 'smart-db', dependencies: ['smart-health', 'smart-dependencies'] },
);
