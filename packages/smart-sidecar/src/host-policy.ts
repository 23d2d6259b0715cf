import { BlockList, isIP } from 'node:net';

/** Why an address is refused: the rule's name, as the sidecar's log line states it. */
export type HostRule = 'link-local' | 'unspecified' | 'multicast' | 'loopback' | 'allow-list';

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits = ''] = cidr.split('/');
    list.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

// The same ranges Atlas refuses at registration: the sidecar checks again,
// because a registry is data (a restored backup, a store written around the
// API) and HAProxy must never be pointed at a cloud metadata service.
// BlockList matches IPv4 ranges in their IPv4-mapped spelling too
// (`::ffff:169.254.169.254`); the other IPv6 spellings are listed.
const ALWAYS: readonly [HostRule, BlockList][] = [
  [
    'link-local',
    blockList([
      '169.254.0.0/16',
      'fe80::/10',
      'fd00:ec2::254/128',
      '::a9fe:0/112',
      '64:ff9b::a9fe:0/112',
      '2002:a9fe::/32',
    ]),
  ],
  ['unspecified', blockList(['0.0.0.0/8', '::/128'])],
  ['multicast', blockList(['224.0.0.0/4', '255.255.255.255/32', 'ff00::/8'])],
];
const LOOPBACK = blockList(['127.0.0.0/8', '::1/128']);

/**
 * Which addresses the sidecar may write into HAProxy: never link-local
 * (169.254.0.0/16, fe80::/10, in every IPv6 spelling), unspecified or
 * multicast; loopback only in realm `local` or when allow-listed; and, with
 * an allow list (CIDRs), only addresses on it.
 *
 * @example
 * const policy = new HostPolicy({ realm: 'production', allowed: ['10.0.0.0/8'] });
 * policy.refusal('169.254.169.254'); // 'link-local'
 * policy.refusal('10.0.3.7'); // undefined: allowed
 */
export class HostPolicy {
  readonly #realm: string;
  readonly #allowed: BlockList | undefined;

  constructor(options: { realm: string; allowed?: readonly string[] | undefined }) {
    this.#realm = options.realm;
    const allowed = options.allowed?.filter(Boolean);
    this.#allowed = allowed && allowed.length > 0 ? blockList(allowed.map(asCidr)) : undefined;
  }

  /** The rule that refuses `address` (an IP address), or undefined when it is allowed. */
  refusal(address: string): HostRule | undefined {
    const family = isIP(address);
    if (family === 0) return 'unspecified';
    const type = family === 6 ? 'ipv6' : 'ipv4';
    for (const [rule, list] of ALWAYS) if (list.check(address, type)) return rule;
    const listed = this.#allowed?.check(address, type) === true;
    if (LOOPBACK.check(address, type)) return this.#realm === 'local' || listed ? undefined : 'loopback';
    if (this.#allowed && !listed) return 'allow-list';
    return undefined;
  }
}

// A bare address in the allow list is its own /32 or /128.
const asCidr = (entry: string) => (entry.includes('/') ? entry : `${entry}/${isIP(entry) === 6 ? 128 : 32}`);
