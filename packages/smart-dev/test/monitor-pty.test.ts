// `smart monitor` as a user sees it: in a terminal (a tmux pane, a real pty),
// against FibPro's Atlas, while FibPro serves traffic.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createAtlasClient } from 'atlas-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevSession } from '../src/types.ts';
import { fib, startFibPro } from './fibpro.ts';
import { eventually } from './helper.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../bin/smart-dev.ts');
// A tmux server of this test's own (not the user's).
const SOCKET = `smart-dev-monitor-${process.pid}`;
const tmux = (...args: string[]) => run('tmux', ['-L', SOCKET, ...args]);

let fibpro: Awaited<ReturnType<typeof startFibPro>> | undefined;
let session: DevSession;

beforeAll(async () => {
  fibpro = await startFibPro({ dashboard: false });
  session = fibpro.session;
});

afterAll(async () => {
  await tmux('kill-server').catch(() => {});
  await fibpro?.stop();
});

/** The monitor's row for each service: its requests/s. */
function rates(screen: string): Map<string, number> {
  const rows = new Map<string, number>();
  for (const [, name, rps] of screen.matchAll(/^([a-z][a-z0-9-]*) +\d+ +([\d.]+) /gm))
    rows.set(name as string, Number(rps));
  return rows;
}

describe('smart monitor', () => {
  it("shows FibPro's three services and fibfrontend's upstreams with non-zero rates after traffic, and the versions of each that are live, redrawn in a terminal", async () => {
    const command = `${process.execPath} ${BIN} monitor --atlas ${session.atlasUrl} --realm local`;
    await tmux('new-session', '-d', '-s', 'monitor', '-x', '150', '-y', '40', command);
    const screen = async () => (await tmux('capture-pane', '-p', '-t', 'monitor')).stdout;
    await eventually(async () => /userstore/.test(await screen()) && /pricing/.test(await screen()), 15_000);
    // Traffic after the first scrape: alice's fib(0) costs 1 of her 100 credits.
    for (let i = 0; i < 20; i++) expect((await fib(session, '/0', 'alice', 'wonderland')).status).toBe(200);
    let last = '';
    await eventually(async () => {
      last = await screen();
      const shown = rates(last);
      return ['fibfrontend', 'pricing', 'userstore'].every((s) => (shown.get(s) ?? 0) > 0);
    }, 15_000).catch(() => {
      throw new Error(`the monitor never showed three non-zero rates:\n${last}`);
    });
    expect(last).toMatch(/smart monitor · realm local/);
    expect(last).toMatch(/SERVICE +INST +REQ\/S +ERR % +P50 +P99/);
    expect(last).toMatch(/^ {2}→ pricing +[\d.]+ +0\.0%/m);
    expect(last).toMatch(/^ {2}→ userstore +[\d.]+ +0\.0%/m);
    // The versions live: FibPro's are all 1.0.0; a second version of pricing registering shows beside it.
    expect(last).toMatch(/SERVICE +INST +REQ\/S +ERR % +P50 +P99 +VERSIONS/);
    expect(last).toMatch(/^userstore +1 .* 1\.0\.0$/m);
    expect(last).toMatch(/^pricing +1 .* 1\.0\.0$/m);
    const atlas = createAtlasClient({ url: session.atlasUrl });
    try {
      await atlas.register({
        service: 'pricing',
        id: 'pricing-canary',
        realm: 'local',
        host: '127.0.0.1',
        port: 1,
        version: '1.1.0',
        metadata: { apiHash: '0123456789abcdef' },
        ttlSeconds: 60,
      });
      await eventually(
        async () => /^pricing +2 .* 1\.0\.0, 1\.1\.0 \(2 versions live\)$/m.test(await screen()),
        10_000,
      ).catch(async () => {
        throw new Error(`the monitor never showed pricing's two versions:\n${await screen()}`);
      });
      expect(await screen()).toMatch(/^userstore +1 .* 1\.0\.0$/m);
    } finally {
      await atlas.deregister('pricing', 'pricing-canary').catch(() => {});
      await atlas.close();
    }
    // Ctrl-C ends it cleanly.
    await tmux('send-keys', '-t', 'monitor', 'C-c');
    await eventually(
      async () =>
        !(await tmux('has-session', '-t', 'monitor').then(
          () => true,
          () => false,
        )),
      5_000,
    );
  });

  it('says so when Atlas cannot be reached, and exits 1', async () => {
    const failed = await run(process.execPath, [BIN, 'monitor', '--atlas', 'http://127.0.0.1:1']).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain(
      'smart-dev: SMART_DEV_ATLAS_UNREACHABLE: cannot read realm local from Atlas at http://127.0.0.1:1',
    );
  });
});
