import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Haproxy } from '../src/haproxy.ts';
import { type RenderOptions, renderConfig } from '../src/render.ts';
import { ensureHaproxy, tempDir } from './helper.ts';

const options = (dir: string): RenderOptions => ({
  listen: { host: '127.0.0.1', port: 4180 },
  stats: { host: '127.0.0.1', port: 4182 },
  adminSocket: join(dir, 'admin.sock'),
  realm: 'production',
  timeouts: { connectMs: 2_000, requestMs: 60_000, keepAliveMs: 120_000, queueMs: 5_000, checkMs: 1_000 },
  check: { intervalMs: 2_000, fastIntervalMs: 500 },
});

describe('renderConfig', () => {
  it('renders a file haproxy -c accepts: a header ACL and backend per service, instances then free slots as server-template runs', async () => {
    const dir = tempDir();
    const text = renderConfig(
      [
        {
          service: 'users',
          slots: [
            { id: 'a', address: '10.0.0.7', port: 3000 },
            undefined,
            { id: 'b', address: 'fd00::7', port: 3001 },
            undefined,
            undefined,
            undefined,
          ],
        },
        { service: 'billing-v2', slots: [undefined] },
      ],
      options(dir),
    );
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, text);
    await Haproxy.validate(ensureHaproxy(), file);
    expect(text).toContain('  acl to_users req.hdr(x-smart-service) -m str users\n  use_backend svc_users if to_users');
    expect(text).toContain('  server s1 10.0.0.7:3000\n  server s2 127.0.0.1:1 disabled\n  server s3 [fd00::7]:3001\n');
    expect(text).toContain('  server-template s 4-6 127.0.0.1:1 disabled');
    expect(text).toContain('option httpchk GET /health/ready');
    expect(text).toContain('expose-fd listeners');
    expect(text).toContain('prometheus-exporter');
    expect(text).toContain('SMART_SIDECAR_UNKNOWN_SERVICE');
  });

  it('renders the same text for the same model, whatever the order of services', () => {
    const a = { service: 'a', slots: [undefined] };
    const b = { service: 'b', slots: [undefined] };
    expect(renderConfig([a, b], options('/x'))).toBe(renderConfig([b, a], options('/x')));
  });

  it('is refused by haproxy -c with HAProxy’s own words when broken', async () => {
    const dir = tempDir();
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, 'frontend x\n  bind 127.0.0.1:1\n  use_backend nowhere\n');
    await expect(Haproxy.validate(ensureHaproxy(), file)).rejects.toMatchObject({
      code: 'SMART_SIDECAR_INVALID_HAPROXY_CONFIG',
      message: expect.stringContaining('nowhere'),
    });
  });
});
