import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createSmartService, defineConfig, secret } from 'smart-service';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { ADMIN_TOKEN, call, freshDatabase, startAtlas } from './helper.ts';

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

const SECRET = 'shop-api-key-canary-5521';

const shopConfig = defineConfig({
  schema: z.object({ maxItems: z.number().int().max(10), greeting: z.string(), apiKey: z.string() }),
  defaults: { maxItems: 5, greeting: 'hello', apiKey: secret() },
});

async function shop(base: string, cacheDir: string) {
  const app = await createSmartService({
    name: 'shop',
    config: shopConfig,
    realm: 'testing',
    env: {
      SMART_ATLAS_URL: base,
      SMART_ATLAS_TOKEN: ADMIN_TOKEN,
      SMART_ATLAS_ADVERTISE_HOST: '127.0.0.1',
      SMART_ATLAS_CACHE_DIR: cacheDir,
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
    },
    logDestination: new Writable({ write: (_c, _e, done) => done() }),
  });
  onTestFinished(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

async function until(check: () => boolean | Promise<boolean>, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a bad value in Atlas for one key', () => {
  it('a new instance starts on the key’s lower layers; other keys apply live; the cache holds only accepted values, no secret', async () => {
    const { base } = await startAtlas(url);
    const cacheDir = await mkdtemp(join(tmpdir(), 'shop-cache-'));
    onTestFinished(() => rm(cacheDir, { recursive: true, force: true }));
    const put = (key: string, body: unknown) =>
      call(base, 'PUT', `/v1/config/shop/testing/${key}`, { token: ADMIN_TOKEN, body });
    // Written before any instance published a schema, so Atlas took it.
    expect((await put('maxItems', { value: 'many' })).status).toBe(204);
    expect((await put('greeting', { value: 'hi' })).status).toBe(204);
    expect((await put('apiKey', { value: SECRET, secret: true })).status).toBe(204);

    const app = await shop(base, cacheDir);
    expect(app.config.maxItems).toBe(5);
    expect(app.config.greeting).toBe('hi');
    expect(app.config.apiKey.reveal()).toBe(SECRET);
    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.config).toMatchObject({ status: 'fail', error: expect.stringContaining('maxItems') });

    // Other keys keep applying live while the bad one stays in Atlas.
    expect((await put('greeting', { value: 'welcome' })).status).toBe(204);
    await until(() => app.config.greeting === 'welcome');
    expect(app.config.maxItems).toBe(5);

    // The last-known-good copy: the accepted values, not the refused one, and never the secret.
    await until(async () => {
      // A save in progress is a temp file renamed into place: read only the saved ones.
      const files = (await readdir(cacheDir)).filter((file) => !file.endsWith('.tmp'));
      const texts = await Promise.all(files.map((file) => readFile(join(cacheDir, file), 'utf8').catch(() => '')));
      return texts.some((text) => text.includes('welcome'));
    });
    for (const file of (await readdir(cacheDir)).filter((name) => !name.endsWith('.tmp'))) {
      const text = await readFile(join(cacheDir, file), 'utf8');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('many');
    }

    // Now that the service published its schema, Atlas refuses the same mistake.
    await until(
      async () => (await call(base, 'GET', '/v1/config-schema/shop/testing', { token: ADMIN_TOKEN })).status === 200,
    );
    expect((await put('maxItems', { value: 'lots' })).status).toBe(422);
  });
});
