// A real Atlas (smart-atlas) in this process, on a database of the test's
// own; stopped when the test finishes (or earlier, to make it go down).
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { createAtlas } from 'smart-atlas';
import { onTestFinished } from 'vitest';
import { freshDatabase } from './servers.ts';

export const ADMIN_TOKEN = 'chaos-admin-token-000000000000001';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningAtlas {
  readonly base: string;
  stop(): Promise<void>;
  /** PUT a config value (admin token); returns the status. */
  setConfig(service: string, realm: string, key: string, value: unknown): Promise<number>;
  deleteConfig(service: string, realm: string, key: string): Promise<number>;
}

/** Starts Atlas on `port` (a database of its own, made once per `database` given or fresh). */
export async function startAtlas(port: number, database?: string): Promise<RunningAtlas> {
  const url = database ?? (await freshDatabase());
  const atlas = await createAtlas({
    realm: 'testing',
    logDestination: new Writable({ write: (_chunk, _encoding, done) => done() }),
    env: {
      SMART_DB__URL: url,
      SMART_ATLAS__MASTER_KEY: 'b'.repeat(64),
      SMART_ATLAS__ADMIN_TOKEN: ADMIN_TOKEN,
      SMART_ATLAS__EXPIRY_INTERVAL_MS: '200',
      // The services under test register on loopback.
      SMART_ATLAS__ALLOWED_HOSTS: JSON.stringify({ testing: ['127.0.0.0/8'], production: ['127.0.0.0/8'] }),
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
      // Long-polling watches still open when it closes are cut after 1.5 s, not waited for.
      SMART_SHUTDOWN__TIMEOUT_MS: '2000',
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // As a crash would: the services' long-polling watches (up to a minute)
    // are cut, not waited for.
    atlas.server.closeAllConnections();
    await atlas.close();
  };
  onTestFinished(stop);
  const base = await atlas.listen({ port, host: '127.0.0.1' });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.text();
    return res.status;
  };
  return {
    base,
    stop,
    setConfig: (service, realm, key, value) => call('PUT', `/v1/config/${service}/${realm}/${key}`, { value }),
    deleteConfig: (service, realm, key) => call('DELETE', `/v1/config/${service}/${realm}/${key}`),
  };
}
