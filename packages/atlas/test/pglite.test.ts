import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createAtlas } from '../src/index.ts';
import { call } from './helper.ts';

describe('Atlas on the embedded database (realm local)', () => {
  it('runs with nothing installed: registers, stores config, wakes watchers; auth off and said so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'atlas-pglite-'));
    afterAll(() => rm(dir, { recursive: true, force: true }));
    const lines: string[] = [];
    const atlas = await createAtlas({
      realm: 'local',
      env: { SMART_DB__EMBEDDED_DIR: dir, SMART_ATLAS__EXPIRY_INTERVAL_MS: '100' },
      logDestination: new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    try {
      const base = await atlas.listen({ port: 0, host: '127.0.0.1' });
      expect(lines.join('')).toContain('atlas auth is OFF');

      const put = await call(base, 'PUT', '/v1/services/web/instances/w-1', {
        body: { host: '127.0.0.1', port: 8080, realm: 'local' },
      });
      expect(put.status).toBe(200);
      expect((await call(base, 'GET', '/v1/services?realm=local')).body).toEqual([{ service: 'web', instances: 1 }]);

      const read = await call(base, 'GET', '/v1/config/web/local');
      setTimeout(() => call(base, 'PUT', '/v1/config/web/local/theme', { body: { value: 'dark' } }), 200);
      const changed = await call(base, 'GET', `/v1/config/web/local?index=${read.index}&wait=5s`);
      expect(changed.body.values).toEqual({ theme: 'dark' });

      await call(base, 'PUT', '/v1/config/web/local/api.key', { body: { value: 'local-secret', secret: true } });
      const rows = await atlas.atlasStore.config.list(['web'], 'local');
      expect(JSON.stringify(rows)).not.toContain('local-secret');
    } finally {
      await atlas.close();
    }
  }, 60_000);
});
