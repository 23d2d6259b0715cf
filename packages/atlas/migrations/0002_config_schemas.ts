import type { Kysely } from 'kysely';

// The config schema each service publishes per realm (JSON Schema), against which config writes are checked.
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('atlas_config_schemas')
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('realm', 'text', (c) => c.notNull())
    .addColumn('schema', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('atlas_config_schemas_pk', ['service', 'realm'])
    .execute();
}
