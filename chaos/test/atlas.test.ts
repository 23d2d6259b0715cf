import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ADMIN_TOKEN, freePort, startAtlas } from '../lib/atlas.ts';
import { report } from '../lib/figures.ts';
import { runLoad } from '../lib/load.ts';
import { freshDatabase } from '../lib/servers.ts';
import { startService, until } from '../lib/service-process.ts';

async function json(url: string) {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

async function cacheDir() {
  const dir = await mkdtemp(join(tmpdir(), 'smart-chaos-atlas-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function atlasEnv(port: number, dir: string) {
  return {
    SMART_ATLAS_URL: `http://127.0.0.1:${port}`,
    SMART_ATLAS_TOKEN: ADMIN_TOKEN,
    SMART_ATLAS_TTL_SECONDS: '3',
    SMART_ATLAS_CACHE_DIR: dir,
  };
}

describe('Atlas trouble', () => {
  it('down at boot: the service starts and serves; once Atlas is up it registers and takes live config; down mid-run: it keeps serving its config', async () => {
    const port = await freePort();
    const database = await freshDatabase();
    const service = await startService({ CHAOS_NAME: 'chaos-atlas', ...atlasEnv(port, await cacheDir()) });
    const before = await json(`${service.base}/greeting`);
    const readyBefore = await json(`${service.base}/health/ready`);

    const atlas = await startAtlas(port, database);
    const upAt = Date.now();
    expect(await atlas.setConfig('chaos-atlas', 'testing', 'greeting', 'from atlas')).toBeLessThan(300);
    await until(
      async () => (await json(`${service.base}/greeting`)).body.greeting === 'from atlas',
      30_000,
      'live config',
    );
    const configAfterMs = Date.now() - upAt;
    await until(
      async () => {
        const res = await fetch(`${atlas.base}/v1/services/chaos-atlas/instances?realm=testing`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const body = (await res.json()) as unknown[] | { instances?: unknown[] };
        return (Array.isArray(body) ? body : (body.instances ?? [])).length > 0;
      },
      15_000,
      'registered',
    );
    const registeredAfterMs = Date.now() - upAt;

    await atlas.stop();
    const during = await runLoad({ url: `${service.base}/greeting`, concurrency: 4, durationMs: 3_000 });
    const after = await json(`${service.base}/greeting`);
    const readyDuring = await json(`${service.base}/health/ready`);
    const figures = {
      bootStatus: before.status,
      readyAtBoot: readyBefore.status,
      configAfterAtlasUpMs: configAfterMs,
      registeredAfterAtlasUpMs: registeredAfterMs,
      requestsWhileDown: during.length,
      notOkWhileDown: during.filter((o) => o.status !== 200).length,
      readyWhileDown: readyDuring.status,
      exits: service.child.exitCode === null ? 0 : 1,
    };
    report('atlas-down-at-boot-and-mid-run', figures);
    expect(before).toEqual({ status: 200, body: { greeting: 'hello', rps: 10 } });
    expect(readyBefore.status).toBe(200);
    expect(figures.notOkWhileDown).toBe(0);
    expect(after.body.greeting).toBe('from atlas');
    expect(readyDuring.status).toBe(200);
    expect((readyDuring.body.checks as Record<string, { status: string }>).atlas?.status).toBe('fail');
    expect(figures.exits).toBe(0);
  });

  it('fault injection set through Atlas turns on and off live (logged), and is refused in production', async () => {
    const port = await freePort();
    const atlas = await startAtlas(port);
    const service = await startService({ CHAOS_NAME: 'chaos-faults', ...atlasEnv(port, await cacheDir()) });
    expect((await json(`${service.base}/fast`)).status).toBe(200);
    const rules = [{ route: '/fast', percent: 100, abortStatus: 503 }];
    expect(await atlas.setConfig('chaos-faults', 'testing', 'faults.rules', rules)).toBeLessThan(300);
    await until(async () => (await json(`${service.base}/fast`)).status === 503, 10_000, 'fault on');
    expect(await atlas.deleteConfig('chaos-faults', 'testing', 'faults.rules')).toBeLessThan(300);
    await until(async () => (await json(`${service.base}/fast`)).status === 200, 10_000, 'fault off');
    const marks = service.lines.filter((line) => line.msg === 'fault injected');

    expect(await atlas.setConfig('chaos-prod', 'production', 'faults.rules', rules)).toBeLessThan(300);
    const prod = await startService({
      CHAOS_NAME: 'chaos-prod',
      SMART_REALM: 'production',
      ...atlasEnv(port, await cacheDir()),
    });
    const prodStatus = (await json(`${prod.base}/fast`)).status;
    report('faults-through-atlas', {
      marked: marks.length,
      productionStatus: prodStatus,
      refusedLogged: prod.lines.some((line) => line.code === 'SMART_SERVICE_FAULTS_REFUSED'),
    });
    expect(marks.length).toBeGreaterThan(0);
    expect(prodStatus).toBe(200);
    expect(prod.lines.some((line) => line.code === 'SMART_SERVICE_FAULTS_REFUSED')).toBe(true);
  });
});
