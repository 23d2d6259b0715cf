import { describe, expect, it } from 'vitest';
import { blockListOf, deniedBy, LOOPBACK_RANGES } from '../src/index.ts';

describe('denied addresses', () => {
  it('refuse the metadata address in every spelling, unspecified and multicast addresses, by rule', () => {
    for (const address of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      'fe80::1',
      'fd00:ec2::254',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::1',
    ])
      expect(deniedBy(address), address).toBe('link-local');
    expect([deniedBy('0.0.0.0'), deniedBy('::')]).toEqual(['unspecified', 'unspecified']);
    expect([deniedBy('224.0.0.1'), deniedBy('255.255.255.255'), deniedBy('ff02::1')]).toEqual([
      'multicast',
      'multicast',
      'multicast',
    ]);
  });

  it('let routable addresses, loopback (a realm decides) and host names through', () => {
    for (const address of ['10.0.0.7', '192.168.1.1', '8.8.8.8', '2001:db8::1', '127.0.0.1', '::1', 'metadata'])
      expect(deniedBy(address), address).toBeUndefined();
    const loopback = blockListOf(LOOPBACK_RANGES);
    expect([loopback.check('127.0.0.9', 'ipv4'), loopback.check('::1', 'ipv6')]).toEqual([true, true]);
    expect(blockListOf(['10.0.0.5']).check('10.0.0.5', 'ipv4')).toBe(true);
  });
});
