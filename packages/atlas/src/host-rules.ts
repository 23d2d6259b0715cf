import { type BlockList, isIP } from 'node:net';
import { blockListOf, DENIED_ADDRESS_RANGES, LOOPBACK_RANGES } from 'smart-protocol';
import { hostNotAllowed } from './errors.ts';

interface Rule {
  /** The rule's name, as a refusal states it. */
  readonly name: string;
  readonly why: string;
  readonly addresses: BlockList;
  readonly names?: RegExp;
}

// The ranges are smart-protocol's (the sidecar and the smart client refuse the same); the reasons are Atlas's.
const ALWAYS: readonly Rule[] = [
  {
    name: 'link-local',
    why: 'link-local addresses (169.254.0.0/16, fe80::/10) are not routable, and cloud metadata services answer there',
    addresses: blockListOf(DENIED_ADDRESS_RANGES['link-local']),
    names: /^(metadata|metadata\.google\.internal|instance-data(\.ec2\.internal)?)\.?$/i,
  },
  {
    name: 'unspecified',
    why: '0.0.0.0/8 and :: name no host (they reach the caller itself)',
    addresses: blockListOf(DENIED_ADDRESS_RANGES.unspecified),
  },
  {
    name: 'multicast',
    why: 'multicast and broadcast addresses are not one instance',
    addresses: blockListOf(DENIED_ADDRESS_RANGES.multicast),
  },
];

const LOOPBACK: Rule = {
  name: 'loopback',
  why: 'loopback reaches the caller itself; allowed in realm local, or when the realm allow-lists it',
  addresses: blockListOf(LOOPBACK_RANGES),
  names: /^(localhost|.*\.localhost)\.?$/i,
};

const matches = (rule: Rule, host: string) =>
  isIP(host) !== 0 ? rule.addresses.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4') : rule.names?.test(host) === true;

// What the fixed rules say of a host, remembered: every heartbeat is checked, and a fleet has a bounded set of hosts.
const verdicts = new Map<string, { readonly refused: Rule | undefined; readonly loopback: boolean }>();

function fixedVerdict(host: string) {
  let verdict = verdicts.get(host);
  if (!verdict) {
    verdict = { refused: ALWAYS.find((rule) => matches(rule, host)), loopback: matches(LOOPBACK, host) };
    if (verdicts.size >= 10_000) verdicts.clear();
    verdicts.set(host, verdict);
  }
  return verdict;
}

/** A realm's allow list, compiled: CIDRs (`10.0.0.0/8`) into one BlockList, exact names, `*.suffix` wildcards. */
interface AllowList {
  readonly addresses: BlockList;
  readonly names: ReadonlySet<string>;
  readonly suffixes: readonly string[];
}

// Compiled once per list: the config keeps a list's identity until it changes.
const compiled = new WeakMap<readonly string[], AllowList>();

function compile(list: readonly string[]): AllowList {
  let allow = compiled.get(list);
  if (!allow) {
    allow = {
      addresses: blockListOf(list.filter((entry) => entry.includes('/'))),
      names: new Set(list.filter((e) => !e.includes('/') && !e.startsWith('*.')).map((e) => e.toLowerCase())),
      suffixes: list.filter((e) => e.startsWith('*.')).map((e) => e.slice(1).toLowerCase()),
    };
    compiled.set(list, allow);
  }
  return allow;
}

function allowedBy(list: readonly string[], host: string): boolean {
  const allow = compile(list);
  const ip = isIP(host);
  if (ip !== 0) {
    if (allow.addresses.check(host, ip === 6 ? 'ipv6' : 'ipv4')) return true;
  }
  const name = host.toLowerCase();
  return allow.names.has(name) || allow.suffixes.some((suffix) => name.endsWith(suffix));
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
  const { refused, loopback } = fixedVerdict(host);
  if (refused) throw hostNotAllowed(host, refused.name, refused.why);
  const listed = allowList !== undefined && allowedBy(allowList, host);
  if (loopback) {
    if (realm === 'local' || listed) return;
    throw hostNotAllowed(host, LOOPBACK.name, LOOPBACK.why);
  }
  if (allowList !== undefined && !listed) {
    throw hostNotAllowed(host, 'allow-list', `realm "${realm}" allows only ${allowList.join(', ') || 'no host'}`);
  }
}
