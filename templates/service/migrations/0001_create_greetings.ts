import { type Kysely, sql } from 'kysely';

// Migrations run in name order: `pnpm generate migration <name>` adds the next one.
// Realm local applies them at start; elsewhere run `pnpm migrate` before deploying.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('greetings')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('greeted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('greetings_name').on('greetings').column('name').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('greetings').execute();
}
