import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    // The database itself refuses a negative credit, whatever the code does.
    .addColumn('credit', 'integer', (c) => c.notNull().check(sql`credit >= 0`))
    .execute();
  // One row per charge, keyed by the caller's idempotency key: a retried charge is applied once.
  await db.schema
    .createTable('charges')
    .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().references('users.name'))
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addColumn('credit_after', 'integer', (c) => c.notNull())
    .addColumn('charged_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('charges').execute();
  await db.schema.dropTable('users').execute();
}
