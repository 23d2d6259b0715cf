import { EventEmitter } from 'node:events';
import { type Kysely, type OperationNodeSource, sql, type Transaction } from 'kysely';
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
import { Batcher } from './batcher.ts';

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

  /**
   * Moves `changed` inside `trx` in one statement (the next index from the
   * sequence, every topic set to it, and on Postgres the NOTIFY): call
   * `emit` after the transaction commits.
   */
  async bump(trx: Trx, changed: readonly string[]): Promise<void> {
    if (changed.length > 0) await this.#moving(changed).execute(trx);
  }

  // `work` (a data-modifying statement, run first), then the topics moved, as one statement.
  #moving(changed: readonly string[], work: OperationNodeSource = sql`select 1`) {
    const unique = [...new Set(changed)];
    const notify = this.#notify ? sql`pg_notify(${CHANNEL}, ${unique.join('\n')})` : sql`1`;
    return sql`
      with work as (${work}),
      next as materialized (select nextval(pg_get_serial_sequence('atlas_index', 'idx')) as idx),
      moved as (
        insert into atlas_topics (topic, idx) select topic, next.idx from unnest(${unique}::text[]) as topic, next
        on conflict (topic) do update set idx = excluded.idx
      )
      select ${notify}`;
  }

  /**
   * Runs one data-modifying statement and moves `changed` with it: a single
   * statement is its own transaction, so the write and its wake-up cost one
   * round trip (a transaction of the two would cost four). Then wakes this
   * process's watchers.
   */
  async writeOne(changed: readonly string[], work: OperationNodeSource): Promise<void> {
    if (changed.length === 0) await sql`${work}`.execute(this.#db);
    else await this.#moving(changed, work).execute(this.#db);
    this.emit(changed);
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

  // The blocking queries that arrive together (the watchers a change woke, re-arming) look their indexes up in one query.
  readonly #indexes = new Batcher<readonly string[], number>(async (calls) => {
    const wanted = [...new Set(calls.flat())];
    const { rows } = await sql<{ topic: string; idx: string | number }>`
      select topic, idx from atlas_topics where topic = any(${wanted}::text[])`.execute(this.#db);
    const indexes = new Map(rows.map((row) => [row.topic, Number(row.idx)]));
    return calls.map((topics) => Math.max(0, ...topics.map((topic) => indexes.get(topic) ?? 0)));
  });

  async index(wanted: readonly string[]): Promise<number> {
    return wanted.length === 0 ? 0 : this.#indexes.add(wanted);
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

  // Heartbeats arriving together share one UPDATE (see `#renewAll`).
  readonly #renewals = new Batcher<{ next: InstanceRecord; now: number }, InstanceRecord | undefined>(
    (beats) => this.#renewAll(beats),
    ({ next }) => `${next.service}/${next.id}`,
  );

  renew(next: InstanceRecord, now: number): Promise<InstanceRecord | undefined> {
    return this.#renewals.add({ next, now });
  }

  // One statement for a batch of heartbeats: each row's comparison and new
  // expiry in the same UPDATE, joined to the batch through unnest() (whose
  // row count the planner knows, so it looks each row up by primary key).
  // Rows go in key order, the order they are locked in: two Atlas processes'
  // batches cannot deadlock on the ones they share, and a deadlock anyway
  // (another writer) is retried.
  async #renewAll(beats: readonly { next: InstanceRecord; now: number }[]): Promise<(InstanceRecord | undefined)[]> {
    const key = (i: InstanceRecord) => `${i.service}/${i.id}`;
    const sorted = [...beats].sort((a, b) => (key(a.next) < key(b.next) ? -1 : 1));
    const column = <T>(pick: (beat: { next: InstanceRecord; now: number }) => T) => sorted.map(pick);
    const query = sql<{ service: string; id: string; registered_at: string | number; disabled: boolean }>`
      update atlas_instances as i set expires_at = b.expires_at
      from unnest(
        ${column((b) => b.next.service)}::text[], ${column((b) => b.next.id)}::text[],
        ${column((b) => b.next.realm)}::text[], ${column((b) => b.next.host)}::text[],
        ${column((b) => b.next.port)}::int[], ${column((b) => b.next.version)}::text[],
        ${column((b) => b.next.ttlMs)}::bigint[], ${column((b) => JSON.stringify(b.next.metadata))}::jsonb[],
        ${column((b) => b.next.expiresAt)}::bigint[], ${column((b) => b.now)}::bigint[]
      ) as b(service, id, realm, host, port, version, ttl_ms, metadata, expires_at, now)
      where i.service = b.service and i.id = b.id and i.realm = b.realm and i.host = b.host
        and i.port = b.port and i.version = b.version and i.ttl_ms = b.ttl_ms
        and i.metadata = b.metadata and i.expires_at > b.now
      returning i.service, i.id, i.registered_at, i.disabled`;
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await query.execute(this.#db);
        const renewed = new Map(rows.map((row) => [`${row.service}/${row.id}`, row]));
        return beats.map(({ next }) => {
          const row = renewed.get(key(next));
          return row ? { ...next, registeredAt: Number(row.registered_at), disabled: row.disabled } : undefined;
        });
      } catch (err) {
        if ((err as { code?: string }).code !== '40P01' || attempt >= 3) throw err;
      }
    }
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
    await this.#feed.writeOne(
      changed,
      this.#db
        .insertInto('atlas_instances')
        .values(row)
        .onConflict((oc) => oc.columns(['service', 'id']).doUpdateSet(row)),
    );
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
    await this.#feed.writeOne(
      changed,
      this.#db
        .insertInto('atlas_config')
        .values(values)
        .onConflict((oc) => oc.columns(['service', 'realm', 'key']).doUpdateSet(values)),
    );
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
