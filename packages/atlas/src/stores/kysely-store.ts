import { EventEmitter } from 'node:events';
import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import type {
  AuditEntry,
  ChangeFeed,
  ConfigRow,
  ConfigStore,
  ExpiredInstance,
  InstanceRecord,
  InstanceStore,
  StoreBackend,
  TokenRecord,
  TokenStore,
} from '../store.ts';

interface Tables {
  atlas_topics: { topic: string; idx: string | number };
  atlas_index: { idx: string | number };
  atlas_instances: {
    service: string;
    id: string;
    realm: string;
    host: string;
    port: number;
    version: string;
    metadata: Record<string, unknown>;
    ttl_ms: string | number;
    expires_at: string | number;
    registered_at: string | number;
    disabled: boolean;
  };
  atlas_config: {
    service: string;
    realm: string;
    key: string;
    value: unknown;
    secret: boolean;
    ciphertext: string | null;
    updated_at: string | number;
    updated_by: string;
  };
  atlas_tokens: {
    id: string;
    name: string;
    hash: string;
    scope: string;
    service: string | null;
    realm: string;
    created_at: string | number;
    created_by: string;
    revoked_at: string | number | null;
  };
  atlas_audit: {
    id?: string | number;
    at: string | number;
    actor: string;
    action: string;
    target: string;
    key: string | null;
  };
}

type Db = Kysely<Tables>;
type Trx = Transaction<Tables>;

const CHANNEL = 'atlas_changes';

/** Options of the Kysely store. */
export interface KyselyStoreOptions {
  /**
   * A Postgres URL for a LISTEN connection, so writes by other Atlas
   * processes on the same database wake this one's watchers. Omit it for a
   * database only this process uses (PGlite).
   */
  readonly listenUrl?: string | undefined;
  /** Reports a lost LISTEN connection (it is re-opened). */
  readonly onError?: (err: Error) => void;
}

function toInstance(row: Tables['atlas_instances']): InstanceRecord {
  return {
    service: row.service,
    id: row.id,
    realm: row.realm,
    host: row.host,
    port: row.port,
    version: row.version,
    metadata: row.metadata,
    ttlMs: Number(row.ttl_ms),
    expiresAt: Number(row.expires_at),
    registeredAt: Number(row.registered_at),
    disabled: row.disabled,
  };
}

function toToken(row: Tables['atlas_tokens']): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    scope: row.scope as TokenRecord['scope'],
    service: row.service,
    realm: row.realm,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

// Topic indexes come from one sequence, so an index never repeats and every
// process on the database sees the same ones. Each write transaction bumps
// its topics and (on Postgres) sends NOTIFY, which the other processes'
// LISTEN connections turn into wake-ups.
class KyselyFeed implements ChangeFeed {
  readonly #db: Db;
  readonly #notify: boolean;
  readonly events = new EventEmitter().setMaxListeners(0);

  constructor(db: Db, notify: boolean) {
    this.#db = db;
    this.#notify = notify;
  }

  /** Moves `changed` inside `trx`: call `emit` after the transaction commits. */
  async bump(trx: Trx, changed: readonly string[]): Promise<void> {
    const unique = [...new Set(changed)];
    if (unique.length === 0) return;
    const { idx } = await trx.insertInto('atlas_index').defaultValues().returning('idx').executeTakeFirstOrThrow();
    await trx
      .insertInto('atlas_topics')
      .values(unique.map((topic) => ({ topic, idx })))
      .onConflict((oc) => oc.column('topic').doUpdateSet({ idx }))
      .execute();
    if (this.#notify) await sql`select pg_notify(${CHANNEL}, ${unique.join('\n')})`.execute(trx);
  }

  emit(changed: readonly string[]): void {
    for (const topic of new Set(changed)) this.events.emit('change', topic);
  }

  /** Runs `work` and moves `changed` in one transaction, then wakes this process's watchers. */
  async write<T>(changed: readonly string[], work: (trx: Trx) => Promise<T>): Promise<T> {
    const result = await this.#db.transaction().execute(async (trx) => {
      const value = await work(trx);
      await this.bump(trx, changed);
      return value;
    });
    this.emit(changed);
    return result;
  }

  async index(wanted: readonly string[]): Promise<number> {
    if (wanted.length === 0) return 0;
    const row = await this.#db
      .selectFrom('atlas_topics')
      .select((eb) => eb.fn.max('idx').as('idx'))
      .where('topic', 'in', [...wanted])
      .executeTakeFirst();
    return Number(row?.idx ?? 0);
  }

  onChange(listener: (topic: string) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  async announce(changed: readonly string[]): Promise<void> {
    await this.write(changed, async () => {});
  }
}

class KyselyInstances implements InstanceStore {
  readonly #db: Db;
  readonly #feed: KyselyFeed;

  constructor(db: Db, feed: KyselyFeed) {
    this.#db = db;
    this.#feed = feed;
  }

  async get(service: string, id: string): Promise<InstanceRecord | undefined> {
    const row = await this.#db
      .selectFrom('atlas_instances')
      .selectAll()
      .where('service', '=', service)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toInstance(row) : undefined;
  }

  // One statement: the comparison and the new expiry in the same UPDATE.
  async renew(next: InstanceRecord, now: number): Promise<InstanceRecord | undefined> {
    const row = await this.#db
      .updateTable('atlas_instances')
      .set({ expires_at: next.expiresAt })
      .where('service', '=', next.service)
      .where('id', '=', next.id)
      .where('realm', '=', next.realm)
      .where('host', '=', next.host)
      .where('port', '=', next.port)
      .where('version', '=', next.version)
      .where('ttl_ms', '=', next.ttlMs)
      .where('metadata', '=', sql<Record<string, unknown>>`${JSON.stringify(next.metadata)}::jsonb`)
      .where('expires_at', '>', now)
      .returning(['registered_at', 'disabled'])
      .executeTakeFirst();
    if (!row) return undefined;
    return { ...next, registeredAt: Number(row.registered_at), disabled: row.disabled };
  }

  async put(instance: InstanceRecord, changed: readonly string[]): Promise<void> {
    const row = {
      service: instance.service,
      id: instance.id,
      realm: instance.realm,
      host: instance.host,
      port: instance.port,
      version: instance.version,
      metadata: JSON.stringify(instance.metadata) as unknown as Record<string, unknown>,
      ttl_ms: instance.ttlMs,
      expires_at: instance.expiresAt,
      registered_at: instance.registeredAt,
      disabled: instance.disabled,
    };
    await this.#feed.write(changed, async (trx) => {
      await trx
        .insertInto('atlas_instances')
        .values(row)
        .onConflict((oc) => oc.columns(['service', 'id']).doUpdateSet(row))
        .execute();
    });
  }

  async delete(
    service: string,
    id: string,
    changed: (previous: InstanceRecord) => readonly string[],
  ): Promise<InstanceRecord | undefined> {
    // Delete first, then bump what the deleted row says, all in one transaction.
    let moved: readonly string[] = [];
    const deleted = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('atlas_instances')
        .where('service', '=', service)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      const previous = toInstance(row);
      moved = changed(previous);
      await this.#feed.bump(trx, moved);
      return previous;
    });
    this.#feed.emit(moved);
    return deleted;
  }

  async list(service: string, realm: string, now: number): Promise<InstanceRecord[]> {
    const rows = await this.#db
      .selectFrom('atlas_instances')
      .selectAll()
      .where('service', '=', service)
      .where('realm', '=', realm)
      .where('disabled', '=', false)
      .where('expires_at', '>', now)
      .orderBy('id')
      .execute();
    return rows.map(toInstance);
  }

  async listServices(realm: string, now: number): Promise<{ service: string; instances: number }[]> {
    const rows = await this.#db
      .selectFrom('atlas_instances')
      .select(['service', (eb) => eb.fn.countAll().as('instances')])
      .where('realm', '=', realm)
      .where('disabled', '=', false)
      .where('expires_at', '>', now)
      .groupBy('service')
      .orderBy('service')
      .execute();
    return rows.map((row) => ({ service: row.service, instances: Number(row.instances) }));
  }

  async expire(since: number, now: number, reapBefore: number): Promise<ExpiredInstance[]> {
    const expired = await this.#db
      .selectFrom('atlas_instances')
      .select(['service', 'realm'])
      .distinct()
      .where('expires_at', '>', since)
      .where('expires_at', '<=', now)
      .execute();
    await this.#db.deleteFrom('atlas_instances').where('expires_at', '<', reapBefore).execute();
    return expired;
  }
}

class KyselyConfig implements ConfigStore {
  readonly #db: Db;
  readonly #feed: KyselyFeed;

  constructor(db: Db, feed: KyselyFeed) {
    this.#db = db;
    this.#feed = feed;
  }

  async list(services: readonly string[], realm: string): Promise<ConfigRow[]> {
    const rows = await this.#db
      .selectFrom('atlas_config')
      .selectAll()
      .where('service', 'in', [...services])
      .where('realm', '=', realm)
      .orderBy('key')
      .execute();
    return rows.map((row) => ({
      service: row.service,
      realm: row.realm,
      key: row.key,
      value: row.value,
      secret: row.secret,
      ciphertext: row.ciphertext,
      updatedAt: Number(row.updated_at),
      updatedBy: row.updated_by,
    }));
  }

  async put(row: ConfigRow, changed: readonly string[]): Promise<void> {
    const values = {
      service: row.service,
      realm: row.realm,
      key: row.key,
      value: row.secret ? null : JSON.stringify(row.value),
      secret: row.secret,
      ciphertext: row.ciphertext,
      updated_at: row.updatedAt,
      updated_by: row.updatedBy,
    };
    await this.#feed.write(changed, async (trx) => {
      await trx
        .insertInto('atlas_config')
        .values(values)
        .onConflict((oc) => oc.columns(['service', 'realm', 'key']).doUpdateSet(values))
        .execute();
    });
  }

  async delete(service: string, realm: string, key: string | undefined, changed: readonly string[]): Promise<string[]> {
    return this.#feed.write(changed, async (trx) => {
      let query = trx.deleteFrom('atlas_config').where('service', '=', service).where('realm', '=', realm);
      if (key !== undefined) query = query.where('key', '=', key);
      return (await query.returning('key').execute()).map((row) => row.key);
    });
  }
}

class KyselyTokens implements TokenStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async put(token: TokenRecord): Promise<void> {
    await this.#db
      .insertInto('atlas_tokens')
      .values({
        id: token.id,
        name: token.name,
        hash: token.hash,
        scope: token.scope,
        service: token.service,
        realm: token.realm,
        created_at: token.createdAt,
        created_by: token.createdBy,
        revoked_at: token.revokedAt,
      })
      .execute();
  }

  async find(hash: string): Promise<TokenRecord | undefined> {
    const row = await this.#db.selectFrom('atlas_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('atlas_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.#db.insertInto('atlas_audit').values(entry).execute();
  }

  async listAudit(limit: number): Promise<AuditEntry[]> {
    const rows = await this.#db
      .selectFrom('atlas_audit')
      .select(['at', 'actor', 'action', 'target', 'key'])
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ ...row, at: Number(row.at) }));
  }
}

/**
 * The Atlas store on Postgres (or PGlite) through Kysely: one table per
 * concern, a sequence for the change feed, and (on Postgres) LISTEN/NOTIFY
 * so writes by other Atlas processes on the same database wake this one's
 * watchers.
 *
 * @example
 * const backend = await KyselyStore.open(app.db, { listenUrl: process.env.DATABASE_URL });
 * const store = new AtlasStore(backend);
 */
export class KyselyStore implements StoreBackend {
  readonly name: string;
  readonly instances: InstanceStore;
  readonly config: ConfigStore;
  readonly tokens: TokenStore;
  readonly feed: KyselyFeed;
  readonly #options: KyselyStoreOptions;
  #listener: pg.Client | undefined;
  #closed = false;

  private constructor(db: Db, options: KyselyStoreOptions) {
    this.#options = options;
    this.name = options.listenUrl ? 'postgres' : 'pglite';
    this.feed = new KyselyFeed(db, Boolean(options.listenUrl));
    this.instances = new KyselyInstances(db, this.feed);
    this.config = new KyselyConfig(db, this.feed);
    this.tokens = new KyselyTokens(db);
  }

  /** Opens the store (and its LISTEN connection when `listenUrl` is given). */
  static async open<T>(db: Kysely<T>, options: KyselyStoreOptions = {}): Promise<KyselyStore> {
    const store = new KyselyStore(db as unknown as Db, options);
    if (options.listenUrl) await store.#listen(options.listenUrl);
    return store;
  }

  async #listen(url: string): Promise<void> {
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({ connectionString: url, application_name: 'atlas-listen' });
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) this.feed.emit(message.payload.split('\n'));
    });
    client.on('error', (err) => {
      this.#options.onError?.(err);
      if (this.#closed) return;
      // Re-listen after a moment; a missed notification only delays a watcher until its wait ends.
      setTimeout(() => {
        if (!this.#closed) this.#listen(url).catch((e: Error) => this.#options.onError?.(e));
      }, 1_000).unref();
    });
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    this.#listener = client;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.feed.events.removeAllListeners();
    await this.#listener?.end().catch(() => {});
  }
}
