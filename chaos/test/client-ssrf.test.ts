// SSRF through registry data: instances at the cloud metadata address
// (169.254.169.254), its IPv4-mapped IPv6 spellings and DNS names resolving
// to it. The smart client checks the address it connects to: 0 connects.
// Such addresses are only ever tried inside a private network namespace the
// test makes itself (`unshare -nm`: its own loopback with 169.254.169.254 on
// it, and its own /etc/hosts), never on the host's network. Atlas, the
// registry, refuses to register such hosts in the first place.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { codes } from 'smart-client';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, freePort, startAtlas } from '../lib/atlas.ts';
import { report } from '../lib/figures.ts';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('../fixtures/ssrf-probe.ts', import.meta.url));

interface ProbeResult {
  denied: Record<string, string>;
  deniedConnects: number;
  open: Record<string, string>;
  openConnects: number;
}

/** Runs fixtures/ssrf-probe.ts in a network and mount namespace of its own (as smart-client's addresses.test.ts). */
async function probeInNamespace(): Promise<ProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'chaos-ssrf-'));
  try {
    const hosts = join(dir, 'hosts');
    await writeFile(
      hosts,
      [
        '127.0.0.1 localhost',
        '169.254.169.254 metadata.test',
        '::ffff:169.254.169.254 mapped.test',
        '127.0.0.1 rebind.test',
        '169.254.169.254 rebind.test',
        '',
      ].join('\n'),
    );
    const script = [
      'ip link set lo up',
      'ip addr add 169.254.169.254/32 dev lo',
      `mount --bind ${hosts} /etc/hosts`,
      `exec ${process.execPath} ${PROBE}`,
    ].join(' && ');
    const { stdout } = await run('unshare', ['-nm', 'bash', '-c', script], { timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1) as string);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('client: SSRF through registry data', () => {
  it('instances at 169.254.169.254, ::ffff:169.254.169.254, ::ffff:a9fe:a9fe and names resolving to it: 0 connects', async () => {
    const { denied, deniedConnects, open, openConnects } = await probeInNamespace();
    const single = Object.entries(denied).filter(([key]) => !key.startsWith('all '));
    const spread = Object.entries(denied).filter(([key]) => key.startsWith('all '));
    report('client-ssrf', {
      instances: single.length,
      calls: Object.keys(denied).length,
      refused: Object.values(denied).filter((code) => code !== 'ok').length,
      connects: deniedConnects,
      controlConnects: openConnects,
    });
    expect(single).toHaveLength(8);
    expect(new Set(single.map(([, code]) => code))).toEqual(new Set([codes.notAllowed]));
    expect(spread).toHaveLength(20);
    expect(spread.filter(([, code]) => code === 'ok')).toEqual([]);
    expect(deniedConnects).toBe(0);
    // The control: nothing denied, the same registry data reaches the listener, so 0 above is the policy.
    expect(new Set(Object.values(open))).toEqual(new Set(['ok']));
    expect(openConnects).toBe(28);
  });

  it('Atlas refuses to register such instances (422 SMART_ATLAS_HOST_NOT_ALLOWED)', async () => {
    const atlas = await startAtlas(await freePort());
    const hosts = ['169.254.169.254', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:a9fe:a9fe'];
    const seen: { host: string; status: number; code: string }[] = [];
    for (const host of hosts) {
      const res = await fetch(`${atlas.base}/v1/services/meta/instances/m-1`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ host, port: 80, realm: 'testing' }),
      });
      seen.push({ host, status: res.status, code: ((await res.json()) as { code: string }).code });
    }
    report('client-ssrf-atlas-registration', {
      hosts: hosts.length,
      refused: seen.filter((s) => s.status === 422).length,
    });
    expect(seen).toEqual(hosts.map((host) => ({ host, status: 422, code: 'SMART_ATLAS_HOST_NOT_ALLOWED' })));
  });
});
