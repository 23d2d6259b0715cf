import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import type { SmartService } from 'smart-service';
import { captureLogs, testDatabase } from 'smart-service/testing';
import { afterAll, onTestFinished } from 'vitest';
import { build as buildFrontend } from '../fibfrontend/src/app.ts';
import { build as buildPricing } from '../pricing/src/app.ts';
import { build as buildUserstore } from '../userstore/src/app.ts';
import { hashPassword } from '../userstore/src/passwords.ts';

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through vitest at the root (it starts Postgres)');
  return url;
}

/** A Postgres database of its own for this test file, dropped after it. */
export async function freshDatabase(): Promise<string> {
  const db = await testDatabase(databaseUrl(), 'fibpro');
  afterAll(() => db.drop());
  return db.url;
}

// Apps in realm testing read only the environment given here: no Atlas.
const env = (extra: Record<string, string> = {}) => ({ SMART_LOG__LEVEL: 'info', ...extra });

/** A service built for a test, with the JSON lines it logged. */
export type Logged = SmartService & { readonly logs: Record<string, unknown>[] };

/** userstore on a real Postgres database (migrated at start), closed after the test; `logs` are its lines. */
export async function userstore(dbUrl: string): Promise<Logged> {
  const logs = captureLogs();
  const app = await buildUserstore({
    realm: 'testing',
    env: env({ SMART_DB__URL: dbUrl, SMART_DB__MIGRATE_AT_START: 'true', SMART_DB__POOL_MAX: '10' }),
    logDestination: logs.stream,
  });
  onTestFinished(() => app.close());
  return Object.assign(app, { logs: logs.lines });
}

/** A user with this password and credit, written straight to userstore's database. */
export async function addUser(app: Logged, credit: number, password = 'secret-pw') {
  const name = `u${randomUUID().slice(0, 8)}`;
  await app.db
    .insertInto('users')
    .values({ name, password_hash: await hashPassword(password), credit })
    .execute();
  return { name, password, basic: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` };
}

/** Listens on a free loopback port; the base URL. */
const listen = (app: { listen(o: { port: number; host: string }): Promise<string> }) =>
  app.listen({ port: 0, host: '127.0.0.1' });

/**
 * The three services on loopback, fibfrontend finding the others through
 * `SMART_SERVICE_<NAME>_URL` (no Atlas). `userstoreUrl` puts something
 * between fibfrontend and userstore (the proxy below).
 */
export async function fibpro(
  dbUrl: string,
  options: { userstoreUrl?: (url: string) => Promise<string> } = {},
): Promise<{ users: Logged; pricing: SmartService; frontend: Logged; url: string }> {
  const users = await userstore(dbUrl);
  const pricing = await buildPricing({ realm: 'testing', env: env(), logDestination: captureLogs().stream });
  onTestFinished(() => pricing.close());
  const direct = await listen(users);
  const logs = captureLogs();
  const frontend = await buildFrontend({
    realm: 'testing',
    logDestination: logs.stream,
    env: env({
      SMART_SERVICE_USERSTORE_URL: options.userstoreUrl ? await options.userstoreUrl(direct) : direct,
      SMART_SERVICE_PRICING_URL: await listen(pricing),
    }),
  });
  onTestFinished(() => frontend.close());
  return { users, pricing, frontend: Object.assign(frontend, { logs: logs.lines }), url: await listen(frontend) };
}

/**
 * A real TCP proxy that loses the answer to the next charge: it passes the
 * request on (userstore applies the charge and answers) and then resets the
 * caller's connection instead of relaying the answer, as a dying load
 * balancer or a network blip would. `dropped` counts the answers lost.
 */
export async function lossyProxy(target: string) {
  const { hostname, port } = new URL(target);
  const state = { dropNext: false, dropped: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let charging = false;
    client.on('data', (chunk) => {
      charging = /^POST \/users\/[^ ]+\/charge /m.test(chunk.toString('latin1'));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (charging && state.dropNext) {
        state.dropNext = false;
        state.dropped++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(
    () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  );
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, state };
}
