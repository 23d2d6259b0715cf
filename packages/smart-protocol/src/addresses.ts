import { BlockList, isIP } from 'node:net';

/**
 * Addresses no instance may register with and no call may reach, by the
 * rule that refuses them: where cloud metadata services answer
 * (`link-local`, in every IPv6 spelling of 169.254.0.0/16), addresses that
 * name no host (`unspecified`), and addresses that are not one host
 * (`multicast`). Atlas refuses them at registration, the sidecar before
 * writing HAProxy's config, the smart client before it connects: one list,
 * so the three can't drift apart. IPv4 ranges also cover their
 * IPv4-mapped IPv6 spellings (`::ffff:169.254.169.254`): Node's `BlockList`
 * matches those against IPv4 rules.
 *
 * @example
 * deniedBy('::ffff:a9fe:a9fe'); // 'link-local'
 */
export const DENIED_ADDRESS_RANGES = {
  'link-local': [
    '169.254.0.0/16', // IPv4 link-local: AWS/GCP/Azure metadata at 169.254.169.254
    'fe80::/10', // IPv6 link-local
    'fd00:ec2::254/128', // AWS's IPv6 metadata endpoint
    '::a9fe:0/112', // IPv4-compatible (deprecated) spelling of 169.254.0.0/16
    '64:ff9b::a9fe:0/112', // NAT64 (RFC 6052) spelling of 169.254.0.0/16
    '2002:a9fe::/32', // 6to4 spelling of 169.254.0.0/16
  ],
  unspecified: [
    '0.0.0.0/8', // "this host": connects to local listeners on Linux
    '::/128', // the unspecified IPv6 address, likewise
  ],
  multicast: [
    '224.0.0.0/4', // IPv4 multicast
    '255.255.255.255/32', // broadcast
    'ff00::/8', // IPv6 multicast
  ],
} as const satisfies Record<string, readonly string[]>;

/** The rules of {@link DENIED_ADDRESS_RANGES}. */
export type DeniedAddressRule = keyof typeof DENIED_ADDRESS_RANGES;

/** Loopback: the caller itself. Allowed only where a realm says so (`local`, or an allow list). */
export const LOOPBACK_RANGES: readonly string[] = ['127.0.0.0/8', '::1/128'];

// By the colon, not isIP(): Node's first isIP() of an IPv6 address compiles
// its IPv6 pattern (~4 ms), which made importing this module a cold start's
// cost; an address given here has its family by its colons either way.
const familyOf = (address: string) => (address.includes(':') ? 'ipv6' : 'ipv4');

/**
 * A `BlockList` of CIDRs (`10.0.0.0/8`, `fe80::/10`) or single addresses.
 *
 * @example
 * blockListOf(LOOPBACK_RANGES).check('127.0.0.1', 'ipv4'); // true
 */
export function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    if (bits === undefined) list.addAddress(address, familyOf(address));
    else list.addSubnet(address, Number(bits), familyOf(address));
  }
  return list;
}

const denied = Object.entries(DENIED_ADDRESS_RANGES).map(
  ([rule, ranges]) => [rule as DeniedAddressRule, blockListOf(ranges)] as const,
);

/**
 * The rule that refuses an IP address, or undefined when none does (a host
 * name is not an address: judge what it resolves to).
 *
 * @example
 * deniedBy('169.254.169.254'); // 'link-local'
 * deniedBy('10.0.0.7'); // undefined
 */
export function deniedBy(address: string): DeniedAddressRule | undefined {
  if (isIP(address) === 0) return undefined;
  const family = familyOf(address);
  for (const [rule, list] of denied) if (list.check(address, family)) return rule;
  return undefined;
}
