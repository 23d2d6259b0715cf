import { testDatabase } from 'smart-service/testing';
import { onTestFinished } from 'vitest';

export { type PrivateRedis, privatePostgres, privateRedis } from '../../packages/smart-service/test/private-servers.ts';

export function sharedDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run with pnpm test:chaos (the root setup starts Postgres)');
  return url;
}

/** A database of this test's own on the shared Postgres, dropped after it. */
export async function freshDatabase(): Promise<string> {
  const db = await testDatabase(sharedDatabaseUrl(), 'chaos');
  onTestFinished(() => db.drop());
  return db.url;
}
