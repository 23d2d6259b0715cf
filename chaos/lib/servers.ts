// Private Redis and Postgres (one test's own, stopped when it finishes) come
// from smart-service's test helpers; the shared ones from the root setup.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';

export { type PrivateRedis, privatePostgres, privateRedis } from '../../packages/smart-service/test/private-servers.ts';

export function sharedDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run with pnpm test:chaos (the root setup starts Postgres)');
  return url;
}

/** A database of this test's own on the shared Postgres, dropped after it. */
export async function freshDatabase(): Promise<string> {
  const name = `chaos_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: sharedDatabaseUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  onTestFinished(async () => {
    const client = new pg.Client({ connectionString: sharedDatabaseUrl() });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });
  const url = new URL(sharedDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
