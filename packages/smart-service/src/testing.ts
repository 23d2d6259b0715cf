import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';

/** A log destination for tests, and the JSON lines written to it. */
export interface CapturedLogs {
  /** Pass as `logDestination` to `createSmartService`. */
  readonly stream: Writable;
  /** Every line written so far, parsed (pino writes one JSON object a line). */
  readonly lines: Record<string, unknown>[];
}

/**
 * Keeps a service's log lines instead of printing them, so a test can
 * assert on them (a request id, a refusal, no secret).
 *
 * @example
 * const logs = captureLogs();
 * const app = await createSmartService({ name: 'orders', logDestination: logs.stream });
 * await app.inject({ url: '/orders', headers: { 'x-request-id': 'r-1' } });
 * expect(logs.lines.some((line) => line.requestId === 'r-1')).toBe(true);
 */
export function captureLogs(onLine?: (line: string) => void): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        onLine?.(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}

/** A database of a test's own (see {@link testDatabase}). */
export interface TestDatabase {
  /** `postgres://.../<name>` on the same server. */
  readonly url: string;
  /** Drops it, closing what is still connected to it. */
  drop(): Promise<void>;
}

/**
 * Creates a database of a test's own on the Postgres server `baseUrl`
 * points at, named `<prefix>_<random>`, so tests that run at the same time
 * never share tables. Register `drop` in the test's own cleanup hook.
 *
 * @example
 * const db = await testDatabase(process.env.DATABASE_URL, 'orders');
 * afterAll(() => db.drop());
 * const app = await createSmartService({ name: 'orders', db: true, env: { SMART_DB__URL: db.url } });
 */
export async function testDatabase(baseUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
