// FibPro (examples/fibpro) under smart dev, as the dashboard and monitor tests drive it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDev } from '../src/index.ts';
import type { DevOptions, DevSession } from '../src/types.ts';

export const FIBPRO = resolve(import.meta.dirname, '../../../examples/fibpro');

/** FibPro's three services and its Atlas, fresh data (full credit), free ports. */
export async function startFibPro(
  options: Partial<DevOptions> = {},
): Promise<{ session: DevSession; stop(): Promise<void> }> {
  const scratch = mkdtempSync(join(tmpdir(), 'smart-dev-fibpro-'));
  const session = await startDev({
    root: FIBPRO,
    watch: false,
    output: false,
    atlasDataDir: join(scratch, 'atlas'),
    env: { SMART_DB__EMBEDDED_DIR: join(scratch, 'userstore-db'), SMART_HTTP__PORT: '0' },
    ...options,
  });
  const stop = async () => {
    await session.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    await session.ready({ timeoutMs: 80_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { session, stop };
}

/** `curl -u user:password` to fibfrontend, with a request id of our choosing. */
export async function fib(session: DevSession, path: string, user: string, password: string, requestId?: string) {
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  };
  if (requestId) headers['x-request-id'] = requestId;
  const res = await fetch(`${session.services.get('fibfrontend')?.url}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
