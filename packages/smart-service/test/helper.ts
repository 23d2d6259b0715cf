import { createClient } from 'smart-client';
import type { ConfigDefinition } from 'smart-config';
import { afterAll, expect, onTestFinished } from 'vitest';
import { createSmartService, currentApp, type SmartServiceOptions } from '../src/index.ts';
import { captureLogs as captureLogLines, testDatabase } from '../src/testing.ts';

/** Secrets used by the suite: none may ever show up in a captured log line. */
export const SECRETS = {
  dbPassword: 'pg-secret-Zq81x',
  bugsnagKey: 'bugsnag0123456789abcdef01234567',
  apiToken: 'tok-live-3f9e8a7d',
} as const;

/** Every log line any app of this test file wrote. */
export const logLines: string[] = [];

afterAll(() => {
  const all = logLines.join('\n');
  for (const value of Object.values(SECRETS)) expect(all).not.toContain(value);
});

/** A stream collecting one app's log lines (also added to `logLines`). */
export const captureLogs = () => captureLogLines((line) => logLines.push(line));

function required(name: 'DATABASE_URL' | 'REDIS_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with pnpm test (it starts Postgres and Redis)`);
  return value;
}

/** The test Postgres URL with a password in it (trust auth ignores it), so a leak would show. */
export function databaseUrl(database?: string): string {
  const url = new URL(required('DATABASE_URL'));
  url.password = SECRETS.dbPassword;
  if (database) url.pathname = `/${database}`;
  return url.toString();
}

export const redisUrl = (): string => required('REDIS_URL');

/** A database of its own for this test file, dropped after it. */
export async function freshDatabase(): Promise<string> {
  // From the URL with a password, so the database's URL carries one too (a leak would show).
  const db = await testDatabase(databaseUrl(), 'smart');
  afterAll(() => db.drop());
  return db.url;
}

/**
 * A real smart service for a test, closed when the test ends. Logs are
 * captured; `env` is the only environment it reads. Load shedding is off
 * unless `env` turns it on: a test's own synchronous work (execFileSync)
 * stalls the event loop the way overload does.
 */
export async function build<Def extends ConfigDefinition | undefined = undefined>(
  options: Partial<SmartServiceOptions<Def>> = {},
) {
  const logs = captureLogs();
  const app = await createSmartService<Def>({
    name: 'test-service',
    version: '1.2.3',
    logDestination: logs.stream,
    ...options,
    env: { SMART_PROTECTION__SHEDDING__ENABLED: 'false', ...options.env },
  } as SmartServiceOptions<Def>);
  onTestFinished(() => app.close());
  return Object.assign(app, { logs: logs.lines });
}

/** Listens on a free loopback port; returns the base URL. */
export async function listen(app: { listen(options: { port: number; host: string }): Promise<string> }) {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

type App = Awaited<ReturnType<typeof build>>;

/** Three real services on loopback: a calls b, b calls c. */
export async function chain(setup: { c: (app: App) => void; b?: (app: App) => void; a?: (app: App) => void }) {
  const c = await build({ name: 'c', realm: 'testing' });
  setup.c(c);
  const cUrl = await listen(c);
  const b = await build({ name: 'b', realm: 'testing', env: { SMART_SERVICE_C_URL: cUrl } });
  (setup.b ?? ((app) => app.get('/work', async () => app.client.get('service://c/work'))))(b);
  const bUrl = await listen(b);
  const a = await build({ name: 'a', realm: 'testing', env: { SMART_SERVICE_B_URL: bUrl } });
  (setup.a ?? ((app) => app.get('/work', async () => currentApp().client.get('service://b/work'))))(a);
  const aUrl = await listen(a);
  return { a, b, c, aUrl };
}

/** A smart client outside any service, closed after the test. */
export const outside = () => {
  const client = createClient({ realm: 'testing' });
  onTestFinished(() => client.close());
  return client;
};
