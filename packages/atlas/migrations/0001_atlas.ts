import type { Kysely } from 'kysely';

// Times are epoch milliseconds (bigint), so the same SQL runs on Postgres and PGlite
// and expiry is decided by one clock: the Atlas process's.
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('atlas_topics')
    .addColumn('topic', 'text', (c) => c.primaryKey())
    .addColumn('idx', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('atlas_index')
    .addColumn('idx', 'bigserial', (c) => c.primaryKey())
    .execute();

  await db.schema
    .createTable('atlas_instances')
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('realm', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('metadata', 'jsonb', (c) => c.notNull())
    .addColumn('ttl_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('registered_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
    .addPrimaryKeyConstraint('atlas_instances_pk', ['service', 'id'])
    .execute();
  await db.schema.createIndex('atlas_instances_by_realm').on('atlas_instances').columns(['realm', 'service']).execute();

  await db.schema
    .createTable('atlas_config')
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('realm', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'jsonb')
    .addColumn('secret', 'boolean', (c) => c.notNull())
    .addColumn('ciphertext', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('atlas_config_pk', ['service', 'realm', 'key'])
    .execute();

  await db.schema
    .createTable('atlas_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('service', 'text')
    .addColumn('realm', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('atlas_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('key', 'text')
    .execute();
}
