import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type AtlasClient, createAtlasClient } from 'atlas-client';
import pg from 'pg';
import { createAtlas } from 'smart-atlas';
import { SERVICE_HEADER } from 'smart-protocol';
import { testDatabase } from 'smart-service/testing';
import { Agent, request } from 'undici';
import { onTestFinished } from 'vitest';
import { cliCommand, parseServersState } from '../src/haproxy-cli.ts';
import { createSidecar, type Sidecar, type SidecarOptions } from '../src/sidecar.ts';

/** HAProxy from Debian, installed when absent (CI installs it up front: scripts/test-servers.sh install). */
export function ensureHaproxy(): string {
  for (const bin of ['/usr/sbin/haproxy', '/usr/bin/haproxy']) if (existsSync(bin)) return bin;
  const apt = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'haproxy'];
  const [command, ...args] = process.getuid?.() === 0 ? apt : ['sudo', '-n', ...apt];
  execFileSync(command as string, args, {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return '/usr/sbin/haproxy';
}

/** A temp folder removed after the test. */
export function tempDir(prefix = 'sidecar-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A free loopback port (HAProxy cannot be told port 0 and say which it took). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/** A Postgres database of the test's own (on the suite's server), dropped after it. */
async function freshDatabase(): Promise<string> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the suite with pnpm test');
  const db = await testDatabase(base, 'sidecar');
  onTestFinished(() => db.drop());
  return db.url;
}

/**
 * A real Atlas in realm local (auth off, loopback instances allowed) on a
 * database of its own; `stop()` and `start()` take it down and bring it
 * back on the same port and data.
 */
export async function startAtlas() {
  const env = {
    SMART_DB__URL: await freshDatabase(),
    SMART_ATLAS__EXPIRY_INTERVAL_MS: '100',
    // It shares the test's event loop with the load the tests generate: no load shedding.
    SMART_PROTECTION__SHEDDING__ENABLED: 'false',
  };
  const make = () => createAtlas({ realm: 'local', env, logDestination: sink() });
  let atlas = await make();
  const base = await atlas.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(base).port);
  let running = true;
  const handle = {
    base,
    dbUrl: env.SMART_DB__URL,
    get app() {
      return atlas;
    },
    async stop() {
      if (!running) return;
      running = false;
      // Atlas's close waits for its blocking reads (up to their wait): an
      // outage cuts them, as a crash or a network partition would.
      const cut = setInterval(() => atlas.server.closeAllConnections(), 20);
      try {
        await atlas.close();
      } finally {
        clearInterval(cut);
      }
    },
    async start() {
      atlas = await make();
      await atlas.listen({ port, host: '127.0.0.1' });
      running = true;
    },
  };
  onTestFinished(() => handle.stop());
  return handle;
}

/** An Atlas client for tests (fast watch pacing), closed after the test. */
export function atlasClient(base: string): AtlasClient {
  const client = createAtlasClient({ url: base, timing: { minIntervalMs: 20, backoffBaseMs: 50, backoffMaxMs: 500 } });
  onTestFinished(() => client.close());
  return client;
}

/** An upstream instance: answers its id on every path, `/health/ready` 200, counting hits. */
export interface Upstream {
  readonly id: string;
  readonly port: number;
  hits: number;
  close(): Promise<void>;
}

export async function upstream(id: string): Promise<Upstream> {
  let server: Server;
  const handle: Upstream = {
    id,
    port: 0,
    hits: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server = createServer((req, res) => {
    if (req.url !== '/health/ready') handle.hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ instance: id, url: req.url, service: req.headers[SERVICE_HEADER] ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (handle as { port: number }).port = (server.address() as { port: number }).port;
  onTestFinished(() => handle.close());
  return handle;
}

/**
 * Writes an instance row straight into Atlas's database, around its API and
 * its checks: registry data as a restored backup or a compromised store
 * could hold it.
 */
export async function poison(dbUrl: string, row: { service: string; id: string; host: string; port: number }) {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const now = Date.now();
  await client.query(
    `insert into atlas_instances (service, id, realm, host, port, version, metadata, ttl_ms, expires_at, registered_at, disabled)
     values ($1, $2, 'local', $3, $4, '', '{}', 300000, $5, $6, false)`,
    [row.service, row.id, row.host, row.port, now + 300_000, now],
  );
  await client.end();
}

/** Registers an instance in realm local. */
export function register(atlas: AtlasClient, service: string, id: string, port: number, host = '127.0.0.1') {
  return atlas.register({ service, id, realm: 'local', host, port, ttlSeconds: 300 });
}

/** Log lines the sidecar wrote, as `message {detail}`. */
export function memoryLog() {
  const lines: string[] = [];
  const at = (level: string) => (detail: object, message: string) =>
    lines.push(`${level} ${message} ${JSON.stringify(detail)}`);
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A sidecar on a free port over its own temp folder, closed (HAProxy stopped) after the test. */
export async function startSidecar(
  atlas: AtlasClient,
  options: Partial<SidecarOptions> = {},
): Promise<{ sidecar: Sidecar; port: number; dir: string; lines: string[] }> {
  const bin = ensureHaproxy();
  const dir = options.dir ?? tempDir();
  const port = options.listen?.port ?? (await freePort());
  const { lines, log } = memoryLog();
  const sidecar = await createSidecar({
    atlas,
    realm: 'local',
    listen: { host: '127.0.0.1', port },
    dir,
    haproxyBin: bin,
    log,
    check: { intervalMs: 1_000, fastIntervalMs: 250 },
    ...options,
  });
  onTestFinished(() => sidecar.close());
  return { sidecar, port, dir, lines };
}

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256 });

/** One call through the sidecar: status and JSON body. */
export async function through(port: number, service: string, path = '/', headers: Record<string, string> = {}) {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    headers: { [SERVICE_HEADER]: service, ...headers },
    dispatcher: agent,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Calls until `check` passes or `ms` runs out; answers how long it took. */
export async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`not within ${ms} ms`);
}

/** The instances answering `n` calls through the sidecar. */
export async function reached(port: number, service: string, n = 30): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    // A reload closes the old worker's idle keep-alive connections: a plain
    // client (no retries, unlike smart-client) sees "other side closed" once.
    const res = await through(port, service).catch(() => undefined);
    if (res?.status === 200) seen.add(String(res.body.instance));
  }
  return seen;
}

/** HAProxy's `show servers state`, and the rendered file. */
export async function haproxyState(sidecar: Sidecar) {
  return {
    servers: parseServersState(await cliCommand(sidecar.files.adminSocket, 'show servers state')),
    config: readFileSync(sidecar.files.configFile, 'utf8'),
  };
}
