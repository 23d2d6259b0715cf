import { EventEmitter } from 'node:events';
import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import {
  type AtlasStore,
  type AuditEntry,
  type ConfigRow,
  type InstanceRecord,
  type TokenRecord,
  topics,
} from './store.ts';

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

/**
 * The Atlas store on Postgres (or PGlite) through Kysely. Topic indexes come
 * from one sequence, so an index never repeats; each write transaction bumps
 * its topics and (on Postgres) sends NOTIFY, which the other processes'
 * LISTEN connections turn into `onChange` calls.
 */
export class KyselyStore implements AtlasStore {
  readonly #db: Kysely<Tables>;
  readonly #events = new EventEmitter().setMaxListeners(0);
  readonly #options: KyselyStoreOptions;
  #listener: pg.Client | undefined;
  #closed = false;

  private constructor(db: Kysely<never>, options: KyselyStoreOptions) {
    this.#db = db as unknown as Kysely<Tables>;
    this.#options = options;
  }

  /** Opens the store (and its LISTEN connection when `listenUrl` is given). */
  static async open<T>(db: Kysely<T>, options: KyselyStoreOptions = {}): Promise<KyselyStore> {
    const store = new KyselyStore(db as unknown as Kysely<never>, options);
    if (options.listenUrl) await store.#listen(options.listenUrl);
    return store;
  }

  async #listen(url: string): Promise<void> {
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({ connectionString: url, application_name: 'atlas-listen' });
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) this.#events.emit('change', message.payload);
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

  async #bump(trx: Transaction<Tables>, changed: readonly string[]): Promise<void> {
    for (const topic of new Set(changed)) {
      const { idx } = await trx.insertInto('atlas_index').defaultValues().returning('idx').executeTakeFirstOrThrow();
      await trx
        .insertInto('atlas_topics')
        .values({ topic, idx })
        .onConflict((oc) => oc.column('topic').doUpdateSet({ idx }))
        .execute();
      if (this.#options.listenUrl) await sql`select pg_notify(${CHANNEL}, ${topic})`.execute(trx);
    }
  }

  async #write(changed: readonly string[], work: (trx: Transaction<Tables>) => Promise<void>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await work(trx);
      await this.#bump(trx, changed);
    });
    for (const topic of changed) this.#events.emit('change', topic);
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
    this.#events.on('change', listener);
    return () => this.#events.off('change', listener);
  }

  async putInstance(instance: InstanceRecord): Promise<void> {
    const previous = await this.getInstance(instance.service, instance.id);
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
      registered_at: previous?.registeredAt ?? instance.registeredAt,
      disabled: previous?.disabled ?? false,
    };
    // A heartbeat that changes nothing but the expiry wakes no watcher.
    const changedShape =
      !previous ||
      previous.realm !== instance.realm ||
      previous.host !== instance.host ||
      previous.port !== instance.port ||
      previous.version !== instance.version ||
      previous.expiresAt < Date.now() ||
      JSON.stringify(previous.metadata) !== JSON.stringify(instance.metadata);
    const changed = changedShape
      ? [
          topics.instances(instance.realm, instance.service),
          topics.catalog(instance.realm),
          ...(previous && previous.realm !== instance.realm
            ? [topics.instances(previous.realm, instance.service), topics.catalog(previous.realm)]
            : []),
        ]
      : [];
    await this.#write(changed, async (trx) => {
      await trx
        .insertInto('atlas_instances')
        .values(row)
        .onConflict((oc) => oc.columns(['service', 'id']).doUpdateSet(row))
        .execute();
    });
  }

  async deleteInstance(service: string, id: string): Promise<InstanceRecord | undefined> {
    const previous = await this.getInstance(service, id);
    if (!previous) return undefined;
    await this.#write([topics.instances(previous.realm, service), topics.catalog(previous.realm)], async (trx) => {
      await trx.deleteFrom('atlas_instances').where('service', '=', service).where('id', '=', id).execute();
    });
    return previous;
  }

  async getInstance(service: string, id: string): Promise<InstanceRecord | undefined> {
    const row = await this.#db
      .selectFrom('atlas_instances')
      .selectAll()
      .where('service', '=', service)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toInstance(row) : undefined;
  }

  async setDisabled(service: string, id: string, disabled: boolean): Promise<InstanceRecord | undefined> {
    const previous = await this.getInstance(service, id);
    if (!previous) return undefined;
    await this.#write([topics.instances(previous.realm, service), topics.catalog(previous.realm)], async (trx) => {
      await trx
        .updateTable('atlas_instances')
        .set({ disabled })
        .where('service', '=', service)
        .where('id', '=', id)
        .execute();
    });
    return { ...previous, disabled };
  }

  async listInstances(service: string, realm: string, now: number): Promise<InstanceRecord[]> {
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

  async expire(since: number, now: number, reapBefore: number): Promise<void> {
    const expired = await this.#db
      .selectFrom('atlas_instances')
      .select(['service', 'realm'])
      .where('expires_at', '>', since)
      .where('expires_at', '<=', now)
      .execute();
    const changed = expired.flatMap((row) => [topics.instances(row.realm, row.service), topics.catalog(row.realm)]);
    if (changed.length > 0) await this.#write(changed, async () => {});
    await this.#db.deleteFrom('atlas_instances').where('expires_at', '<', reapBefore).execute();
  }

  async getConfig(services: readonly string[], realm: string): Promise<ConfigRow[]> {
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

  async putConfig(row: ConfigRow): Promise<void> {
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
    await this.#write([topics.config(row.realm, row.service)], async (trx) => {
      await trx
        .insertInto('atlas_config')
        .values(values)
        .onConflict((oc) => oc.columns(['service', 'realm', 'key']).doUpdateSet(values))
        .execute();
    });
  }

  async deleteConfig(service: string, realm: string, key: string | undefined): Promise<string[]> {
    let deleted: string[] = [];
    await this.#write([topics.config(realm, service)], async (trx) => {
      let query = trx.deleteFrom('atlas_config').where('service', '=', service).where('realm', '=', realm);
      if (key !== undefined) query = query.where('key', '=', key);
      deleted = (await query.returning('key').execute()).map((row) => row.key);
    });
    return deleted;
  }

  async putToken(token: TokenRecord): Promise<void> {
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

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const row = await this.#db.selectFrom('atlas_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
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

  async close(): Promise<void> {
    this.#closed = true;
    this.#events.removeAllListeners();
    await this.#listener?.end().catch(() => {});
  }
}
