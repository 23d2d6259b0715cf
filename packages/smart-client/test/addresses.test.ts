import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AddressPolicy, codes } from '../src/index.ts';

const run = promisify(execFile);
const probe = fileURLToPath(new URL('./fixtures/ssrf-probe.ts', import.meta.url));

/**
 * Runs the probe in a private network namespace (`unshare -nm`): its own
 * loopback, 169.254.169.254 on it, and a bind-mounted hosts file. Nothing
 * is sent to such addresses on the host's network.
 */
async function inNamespace(): Promise<{
  denied: Record<string, string>;
  deniedConnects: number;
  open: Record<string, string>;
  openConnects: number;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'ssrf-'));
  try {
    const hosts = join(dir, 'hosts');
    await writeFile(
      hosts,
      [
        '127.0.0.1 localhost',
        '169.254.169.254 metadata.test',
        '127.0.0.1 rebind.test',
        '169.254.169.254 rebind.test',
        '::ffff:169.254.169.254 mapped.test',
        '',
      ].join('\n'),
    );
    const script = [
      'ip link set lo up',
      'ip addr add 169.254.169.254/32 dev lo',
      `mount --bind ${hosts} /etc/hosts`,
      `exec ${process.execPath} ${probe}`,
    ].join(' && ');
    const { stdout } = await run('unshare', ['-nm', 'bash', '-c', script], { timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1) as string);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('addresses checked where the connection is made (SSRF)', () => {
  it('refuses link-local in every spelling and DNS names resolving to it, with 0 connects (private namespace)', async () => {
    const { denied, deniedConnects, open, openConnects } = await inNamespace();
    const codesSeen = new Set(Object.values(denied));
    expect(codesSeen).toEqual(new Set([codes.notAllowed]));
    expect(Object.keys(denied)).toHaveLength(22); // 11 spellings, each from the registry and as a plain URL
    expect(deniedConnects).toBe(0);
    // The control: with an empty deny list the same URLs reach the listener, so 0 above means refused.
    expect(new Set(Object.values(open))).toEqual(new Set(['ok']));
    expect(openConnects).toBe(22);
  });

  it('decides by address, not spelling: IPv4-mapped, compatible, NAT64 and 6to4 forms of link-local are denied', () => {
    const policy = new AddressPolicy();
    for (const address of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '::a9fe:a9fe',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::1',
      'fe80::1',
      'FE80::1%eth0',
      'fd00:ec2::254',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      'ff02::1',
    ])
      expect({ address, allowed: policy.allowsAddress(address) }).toEqual({ address, allowed: false });
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '::ffff:10.1.2.3', '2001:db8::1'])
      expect({ address, allowed: policy.allowsAddress(address) }).toEqual({ address, allowed: true });
    expect(policy.allowsHost('[::ffff:a9fe:a9fe]')).toBe(false);
  });

  it('with networks in allowedHosts, an address outside them is refused, and a name must be listed', () => {
    const policy = new AddressPolicy({ allowedHosts: ['10.0.0.0/8', 'users.internal'] });
    expect(policy.allowsAddress('10.2.3.4')).toBe(true);
    expect(policy.allowsAddress('192.168.1.1')).toBe(false);
    expect(policy.allowsHost('10.9.9.9')).toBe(true);
    expect(policy.allowsHost('users.internal')).toBe(true);
    expect(policy.allowsHost('evil.example')).toBe(false);
  });
});
