import { BlockList, isIP } from 'node:net';
import { hostNotAllowed } from './errors.ts';

interface Rule {
  /** The rule's name, as a refusal states it. */
  readonly name: string;
  readonly why: string;
  readonly addresses: BlockList;
  readonly names?: RegExp;
}

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits = ''] = cidr.split('/');
    list.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

// IPv4 ranges also match their IPv4-mapped IPv6 spellings (`::ffff:169.254.169.254`): BlockList does that.
const ALWAYS: readonly Rule[] = [
  {
    name: 'link-local',
    why: 'link-local addresses (169.254.0.0/16, fe80::/10) are not routable, and cloud metadata services answer there',
    addresses: blockList([
      '169.254.0.0/16',
      'fe80::/10',
      'fd00:ec2::254/128',
      '::a9fe:0/112',
      '64:ff9b::a9fe:0/112',
      '2002:a9fe::/32',
    ]),
    names: /^(metadata|metadata\.google\.internal|instance-data(\.ec2\.internal)?)\.?$/i,
  },
  {
    name: 'unspecified',
    why: '0.0.0.0/8 and :: name no host (they reach the caller itself)',
    addresses: blockList(['0.0.0.0/8', '::/128']),
  },
  {
    name: 'multicast',
    why: 'multicast and broadcast addresses are not one instance',
    addresses: blockList(['224.0.0.0/4', '255.255.255.255/32', 'ff00::/8']),
  },
];

const LOOPBACK: Rule = {
  name: 'loopback',
  why: 'loopback reaches the caller itself; allowed in realm local, or when the realm allow-lists it',
  addresses: blockList(['127.0.0.0/8', '::1/128']),
  names: /^(localhost|.*\.localhost)\.?$/i,
};

const matches = (rule: Rule, host: string) =>
  isIP(host) !== 0 ? rule.addresses.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4') : rule.names?.test(host) === true;

/** A realm's allow list: CIDRs (`10.0.0.0/8`), exact names, and `*.suffix` wildcards. */
function allowedBy(list: readonly string[], host: string): boolean {
  const ip = isIP(host);
  for (const entry of list) {
    if (entry.includes('/')) {
      if (ip !== 0 && blockList([entry]).check(host, ip === 6 ? 'ipv6' : 'ipv4')) return true;
    } else if (entry.startsWith('*.')) {
      if (host.toLowerCase().endsWith(entry.slice(1).toLowerCase())) return true;
    } else if (entry.toLowerCase() === host.toLowerCase()) return true;
  }
  return false;
}

/**
 * Refuses (422, naming the rule) an instance host no caller should be sent
 * to: link-local (cloud metadata) addresses and names, unspecified,
 * multicast and broadcast addresses, in every IPv6 spelling, always;
 * loopback outside realm `local` unless the realm's allow list has it; and,
 * when the realm has an allow list (`atlas.allowedHosts.<realm>`), any host
 * not on it. Host names are judged by name here; the smart client checks
 * the addresses they resolve to when it connects.
 *
 * @example
 * checkInstanceHost('169.254.169.254', 'production', undefined); // throws SMART_ATLAS_HOST_NOT_ALLOWED (link-local)
 */
export function checkInstanceHost(host: string, realm: string, allowList: readonly string[] | undefined): void {
  for (const rule of ALWAYS) if (matches(rule, host)) throw hostNotAllowed(host, rule.name, rule.why);
  const listed = allowList !== undefined && allowedBy(allowList, host);
  if (matches(LOOPBACK, host)) {
    if (realm === 'local' || listed) return;
    throw hostNotAllowed(host, LOOPBACK.name, LOOPBACK.why);
  }
  if (allowList !== undefined && !listed) {
    throw hostNotAllowed(host, 'allow-list', `realm "${realm}" allows only ${allowList.join(', ') || 'no host'}`);
  }
}
