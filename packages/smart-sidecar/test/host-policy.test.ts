import { describe, expect, it } from 'vitest';
import { HostPolicy } from '../src/host-policy.ts';
import { screenInstance, screenService } from '../src/screen.ts';

const instance = (host: string, extra: Record<string, unknown> = {}) =>
  ({ service: 'users', id: 'u1', realm: 'production', host, port: 3000, ...extra }) as never;

describe('HostPolicy', () => {
  const policy = new HostPolicy({ realm: 'production' });

  it('refuses link-local addresses in every spelling (cloud metadata)', () => {
    for (const host of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      'fe80::1',
      '64:ff9b::a9fe:a9fe',
    ])
      expect(policy.refusal(host), host).toBe('link-local');
  });

  it('refuses unspecified and multicast addresses, and loopback outside realm local', () => {
    expect(policy.refusal('0.0.0.0')).toBe('unspecified');
    expect(policy.refusal('::')).toBe('unspecified');
    expect(policy.refusal('239.1.1.1')).toBe('multicast');
    expect(policy.refusal('127.0.0.1')).toBe('loopback');
    expect(new HostPolicy({ realm: 'local' }).refusal('127.0.0.1')).toBeUndefined();
    expect(policy.refusal('10.0.3.7')).toBeUndefined();
  });

  it('with an allow list, takes only the addresses on it', () => {
    const listed = new HostPolicy({ realm: 'production', allowed: ['10.0.0.0/8', '192.168.1.5'] });
    expect(listed.refusal('10.1.2.3')).toBeUndefined();
    expect(listed.refusal('192.168.1.5')).toBeUndefined();
    expect(listed.refusal('192.168.1.6')).toBe('allow-list');
    expect(listed.refusal('169.254.169.254')).toBe('link-local');
  });
});

describe('screening registry entries', () => {
  const policy = new HostPolicy({ realm: 'local' });

  it('refuses a service name with CR/LF or spaces, quoting it on one line', () => {
    expect(screenService('evil\r\nname')).toMatchObject({ name: 'evil\\r\\nname' });
    expect(screenService('bad name')).toBeDefined();
    expect(screenService('users')).toBeUndefined();
  });

  it('refuses hosts that are not hosts, ids that are not ids and ports that are not ports', async () => {
    expect(await screenInstance(instance('10.0.0.1 check'), policy)).toHaveProperty('reason');
    expect(await screenInstance(instance('10.0.0.1;x'), policy)).toHaveProperty('reason');
    expect(await screenInstance(instance('10.0.0.1', { id: 'a\nb' }), policy)).toHaveProperty('reason');
    expect(await screenInstance(instance('10.0.0.1', { port: 0 }), policy)).toHaveProperty('reason');
  });

  it('resolves a host name and judges the address it resolves to', async () => {
    expect(await screenInstance(instance('localhost'), policy)).toMatchObject({
      address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
    });
    expect(await screenInstance(instance('localhost'), new HostPolicy({ realm: 'production' }))).toMatchObject({
      reason: expect.stringContaining('(loopback)'),
    });
  });

  it('hands HAProxy the IPv4 form of an IPv4-mapped address', async () => {
    expect(await screenInstance(instance('::ffff:10.0.0.9'), policy)).toMatchObject({ address: '10.0.0.9' });
  });
});
