import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Migrator } from 'kysely/migration';
import type { Logger } from 'pino';
import { MigrationError } from './errors.ts';

// Kysely's migrator (21 files) is loaded when a migrator is first made, not
// with smart-service: a service without a database never loads it. Node
// requires an ES module synchronously, so migratorFor stays synchronous.
const require = createRequire(import.meta.url);
// Not an ES import of node:fs: its export facade costs a cold start ~2 ms (its getters run).
const { existsSync } = process.getBuiltinModule('node:fs');

/** The Kysely migrator over a folder of migration files (`.ts` or `.js`, run in name order). */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema, as Kysely's own docs type them.
export function migratorFor(db: Kysely<any>, folder: string): Migrator {
  const { FileMigrationProvider, Migrator } = require('kysely/migration') as typeof import('kysely/migration');
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs: { readdir }, path: { join }, migrationFolder: folder }),
  });
}

/**
 * Applies every pending migration in `folder`, in name order, each in its
 * own transaction (Kysely's Migrator, which also locks against concurrent
 * runs). Returns the names applied; a missing folder applies nothing.
 *
 * @example
 * await migrate(app.db, join(import.meta.dirname, '../migrations'), app.log);
 */
// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function migrate(db: Kysely<any>, folder: string, log: Pick<Logger, 'info'>): Promise<string[]> {
  if (!existsSync(folder)) return [];
  const { error, results = [] } = await migratorFor(db, folder).migrateToLatest();
  const failed = results.find((result) => result.status === 'Error');
  if (error) throw new MigrationError(failed?.migrationName, error);
  const applied = results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
  return applied;
}
