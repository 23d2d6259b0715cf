import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createAtlasClient } from 'atlas-client';
import { createSmartService, defineConfig } from 'smart-service';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { ADMIN_TOKEN, freshDatabase, startAtlas } from './helper.ts';

let url: string;
let root: string;
beforeAll(async () => {
  url = await freshDatabase();
  root = await mkdtemp(join(tmpdir(), 'atlas-int-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const definition = defineConfig({
  schema: z.object({ greeting: z.string(), limits: z.object({ rps: z.number().int().positive() }) }),
  defaults: { greeting: 'hello', limits: { rps: 10 } },
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

async function service(atlasBase: string, extra: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const app = await createSmartService({
    name: 'greeter',
    config: definition,
    realm: 'testing',
    root,
    env: { SMART_ATLAS_URL: atlasBase, SMART_ATLAS_TOKEN: ADMIN_TOKEN, SMART_ATLAS_TTL_SECONDS: '3', ...extra },
    logDestination: new Writable({
      write(chunk, _e, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    }),
  });
  onTestFinished(() => app.close());
  return Object.assign(app, { lines });
}

describe('services and Atlas', () => {
  it('a config change in Atlas reaches a running service within a second and shows as coming from atlas', async () => {
    const { base } = await startAtlas(url);
    const admin = createAtlasClient({ url: base, token: ADMIN_TOKEN });
    onTestFinished(() => admin.close());
    await admin.setConfig('greeter', 'testing', 'greeting', 'hi from atlas');
    await admin.setConfig('_global', 'testing', 'limits.rps', 50);

    const app = await service(base);
    expect(app.config.greeting).toBe('hi from atlas');
    expect(app.config.limits.rps).toBe(50);
    expect(app.smartConfig.explain('greeting')[0]).toMatchObject({
      source: 'atlas',
      overridden: [{ source: 'defaults' }],
    });

    await admin.setConfig('greeter', 'testing', 'greeting', 'changed live');
    const took = await until(() => app.config.greeting === 'changed live');
    expect(took).toBeLessThan(1_000);
    expect(app.lines.find((l) => l.msg === 'config changed')).toMatchObject({ changed: ['greeting'] });

    // A bad value is rejected: the old one stays and the key is logged.
    await admin.setConfig('greeter', 'testing', 'limits.rps', -5);
    await until(() => app.lines.some((l) => l.code === 'SMART_CONFIG_UPDATE_REJECTED'));
    expect(app.config.limits.rps).toBe(50);
    expect(String(app.lines.find((l) => l.code === 'SMART_CONFIG_UPDATE_REJECTED')?.msg)).toContain('limits.rps');

    // At start, the same bad value is refused on its own: the instance starts on the key's lower
    // layers (no crash loop on the next deploy), names the key in a log line and in readiness.
    const next = await service(base);
    expect(next.config.limits.rps).toBe(10);
    expect(next.config.greeting).toBe('changed live');
    expect(next.smartConfig.rejected).toEqual([expect.objectContaining({ key: 'limits.rps', layer: 'atlas' })]);
    expect(next.lines.some((l) => l.level === 50 && l.key === 'limits.rps')).toBe(true);
    await admin.unsetConfig('greeter', 'testing', 'limits.rps');
  });

  it('keeps serving with its config when Atlas stops, and a restart starts from the last-known-good copy', async () => {
    const { atlas, base } = await startAtlas(url);
    const admin = createAtlasClient({ url: base, token: ADMIN_TOKEN });
    await admin.setConfig('greeter', 'testing', 'greeting', 'remembered');
    await admin.close();
    const app = await service(base);
    app.get('/greet', async () => ({ greeting: app.config.greeting }));
    expect(app.config.greeting).toBe('remembered');
    await atlas.close();

    expect((await app.inject('/greet')).json()).toEqual({ greeting: 'remembered' });
    const ready = (await app.inject('/health/ready')).json();
    expect(ready.status).toBe('ok'); // atlas is not critical
    expect(ready.checks.atlas).toMatchObject({ status: 'fail', critical: false });
    await app.close();

    const restarted = await service(base);
    expect(restarted.config.greeting).toBe('remembered');
    expect(restarted.lines.some((l) => String(l.msg).includes('last-known-good'))).toBe(true);
  });

  it('starts from defaults and environment when Atlas is down and there is no copy, unless Atlas is required', async () => {
    const dead = 'http://127.0.0.1:9';
    const app = await service(dead, { SMART_ATLAS_CACHE_DIR: join(root, 'empty-cache') });
    expect(app.config.greeting).toBe('hello');
    expect(app.lines.some((l) => String(l.msg).includes('no last-known-good copy'))).toBe(true);
    await expect(
      service(dead, { SMART_ATLAS_CACHE_DIR: join(root, 'empty-cache'), SMART_ATLAS_REQUIRED: 'true' }),
    ).rejects.toMatchObject({
      code: 'SMART_CONFIG_SOURCE_FAILED',
    });
  });

  it('registers when listening, heartbeats, and deregisters first thing on shutdown', async () => {
    const { base } = await startAtlas(url);
    const admin = createAtlasClient({ url: base, token: ADMIN_TOKEN });
    onTestFinished(() => admin.close());
    const app = await service(base, {
      SMART_ATLAS_ADVERTISE_HOST: '127.0.0.1',
      SMART_SHUTDOWN__DRAIN_DELAY_MS: '1500',
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const listed = async () => (await admin.instances('greeter', 'testing')).data;
    await until(async () => (await listed()).length === 1);
    const [instance] = await listed();
    expect(instance).toMatchObject({ id: app.serviceInfo.instanceId, url: address, realm: 'testing' });

    await new Promise((resolve) => setTimeout(resolve, 3_500)); // past the 3 s TTL: heartbeats keep it
    expect((await listed()).map((i) => i.id)).toEqual([app.serviceInfo.instanceId]);

    let closed = false;
    const shutdown = app.shutdown().then(() => {
      closed = true;
    });
    await until(async () => (await listed()).length === 0, 1_000);
    expect(closed).toBe(false); // gone from Atlas while still draining
    await shutdown;
  });

  it("records each instance's version and API document hash, as the service computed them", async () => {
    const { base } = await startAtlas(url);
    const admin = createAtlasClient({ url: base, token: ADMIN_TOKEN });
    onTestFinished(() => admin.close());
    const app = await createSmartService({
      name: 'pricing',
      version: '0.2.0',
      config: definition,
      realm: 'testing',
      root,
      env: {
        SMART_ATLAS_URL: base,
        SMART_ATLAS_TOKEN: ADMIN_TOKEN,
        SMART_ATLAS_ADVERTISE_HOST: '127.0.0.1',
        SMART_ATLAS_CACHE_DIR: join(root, 'pricing-cache'),
      },
      logDestination: new Writable({ write: (_chunk, _e, done) => done() }),
    });
    onTestFinished(() => app.close());
    app.get(
      '/price/:n',
      { schema: { params: z.object({ n: z.coerce.number().int() }), response: { 200: z.object({ n: z.number() }) } } },
      async (request) => ({ n: (request.params as { n: number }).n }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const hash = app.openapi.hash;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);

    const listed = async () => (await admin.instances('pricing', 'testing')).data;
    await until(async () => (await listed()).length === 1);
    const [instance] = await listed();
    expect(instance).toMatchObject({
      id: app.serviceInfo.instanceId,
      version: '0.2.0',
      metadata: expect.objectContaining({ apiHash: hash }),
    });
  });

  it('an instance killed with SIGKILL disappears from the list within its TTL', async () => {
    const { base } = await startAtlas(url);
    const admin = createAtlasClient({ url: base, token: ADMIN_TOKEN });
    onTestFinished(() => admin.close());
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/registered-service.ts', import.meta.url))],
      {
        env: {
          PATH: process.env.PATH,
          SMART_REALM: 'testing',
          SMART_HTTP__HOST: '127.0.0.1',
          SMART_HTTP__PORT: '0',
          SMART_ATLAS_URL: base,
          SMART_ATLAS_TOKEN: ADMIN_TOKEN,
          SMART_ATLAS_TTL_SECONDS: '2',
          SMART_ATLAS_CACHE_DIR: join(root, 'child-cache'),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(child);
    await until(async () => (await admin.instances('inventory', 'testing')).data.length === 1, 15_000);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await until(async () => (await admin.instances('inventory', 'testing')).data.length === 0, 5_000);
    expect(Date.now() - killedAt).toBeLessThan(2_600); // TTL 2 s plus the expiry check
  });
});
