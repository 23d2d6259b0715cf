import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSmartService, defineConfig } from 'smart-service';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { ADMIN_TOKEN, freshDatabase, startAtlas } from './helper.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/smart-atlas.ts', import.meta.url));
let url: string;
let root: string;
beforeAll(async () => {
  url = await freshDatabase();
  root = await mkdtemp(join(tmpdir(), 'atlas-cli-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function cli(base: string, token: string, ...args: string[]) {
  return run(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH, SMART_ATLAS_URL: base, SMART_ATLAS_TOKEN: token },
  });
}

describe('smart-atlas CLI', () => {
  it('sets, reads and unsets config, with secrets hidden from tokens that may not see them', async () => {
    const { base } = await startAtlas(url);
    const set = await cli(
      base,
      ADMIN_TOKEN,
      'config',
      'set',
      'orders',
      'testing',
      'db.poolMax=20',
      'greeting=hello there',
      'tags=["a","b"]',
    );
    expect(set.stdout.trim().split('\n')).toEqual([
      'set orders/testing/db.poolMax',
      'set orders/testing/greeting',
      'set orders/testing/tags',
    ]);
    await cli(base, ADMIN_TOKEN, 'config', 'set', 'orders', 'testing', 'db.password=hunter2-cli', '--secret');
    await cli(base, ADMIN_TOKEN, 'config', 'set', '_global', 'testing', 'region=eu');

    const asAdmin = (await cli(base, ADMIN_TOKEN, 'config', 'get', 'orders', 'testing')).stdout;
    expect(asAdmin).toContain('db.poolMax = 20');
    expect(asAdmin).toContain('greeting = "hello there"');
    expect(asAdmin).toContain('tags = ["a","b"]');
    expect(asAdmin).toContain('db.password = "hunter2-cli"  (secret)');
    expect(asAdmin).toContain('region = "eu"  (from _global)');

    const created = await cli(
      base,
      ADMIN_TOKEN,
      'tokens',
      'create',
      '--name',
      'dash',
      '--scope',
      'catalog',
      '--realm',
      'testing',
    );
    const catalogToken = created.stdout.split('\n')[0] as string;
    expect(catalogToken).toMatch(/^atl_/);
    const asCatalog = (await cli(base, catalogToken, 'config', 'get', 'orders', 'testing')).stdout;
    expect(asCatalog).toContain('db.password = (secret)');
    expect(asCatalog).not.toContain('hunter2-cli');

    expect((await cli(base, ADMIN_TOKEN, 'config', 'unset', 'orders', 'testing', 'tags')).stdout.trim()).toBe(
      'unset orders/testing/tags',
    );
    expect((await cli(base, ADMIN_TOKEN, 'config', 'get', 'orders', 'testing', 'tags')).stdout).toBe('');
  });

  it('fails with the Atlas code and exit 1 when the token may not do it', async () => {
    const { base } = await startAtlas(url);
    const failure = await cli(base, 'atl_nope', 'config', 'set', 'orders', 'testing', 'x=1').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('SMART_ATLAS_CLIENT_HTTP');
    expect((failure as { stderr: string }).stderr).toContain('401');
    const bad = await cli(base, ADMIN_TOKEN, 'config', 'set', 'orders', 'testing', 'no-equals-sign').catch(
      (e: { stderr: string }) => e,
    );
    expect((bad as { stderr: string }).stderr).toContain('is not key=value');
  });

  it('changes config of a running service within a second, and lists it among services and instances', async () => {
    const { base } = await startAtlas(url);
    const app = await createSmartService({
      name: 'checkout',
      config: defineConfig({ schema: z.object({ greeting: z.string() }), defaults: { greeting: 'hello' } }),
      realm: 'testing',
      root,
      env: {
        SMART_ATLAS_URL: base,
        SMART_ATLAS_TOKEN: ADMIN_TOKEN,
        SMART_ATLAS_ADVERTISE_HOST: '127.0.0.1',
        SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
      },
      logDestination: new Writable({ write: (_c, _e, done) => done() }),
    });
    onTestFinished(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });

    await cli(base, ADMIN_TOKEN, 'config', 'set', 'checkout', 'testing', 'greeting=set by the CLI');
    const started = Date.now(); // from the moment the CLI is done
    while (app.config.greeting !== 'set by the CLI' && Date.now() - started < 3_000)
      await new Promise((r) => setTimeout(r, 10));
    expect(app.config.greeting).toBe('set by the CLI');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(app.smartConfig.explain('greeting')[0]?.source).toBe('atlas');

    expect((await cli(base, ADMIN_TOKEN, 'services', '--realm', 'testing')).stdout).toContain('checkout  1 instance');
    expect((await cli(base, ADMIN_TOKEN, 'instances', 'checkout', '--realm', 'testing')).stdout).toContain(
      app.serviceInfo.instanceId,
    );
  });
});
