import { type BlockList, isIP } from 'node:net';
import { blockListOf, DENIED_ADDRESS_RANGES, LOOPBACK_RANGES } from 'smart-protocol';

/** Why an address is refused: the rule's name, as the sidecar's log line states it. */
export type HostRule = 'link-local' | 'unspecified' | 'multicast' | 'loopback' | 'allow-list';

// The same ranges Atlas refuses at registration (smart-protocol's): the
// sidecar checks again, because a registry is data (a restored backup, a
// store written around the API) and HAProxy must never be pointed at a cloud
// metadata service.
const ALWAYS: readonly [HostRule, BlockList][] = Object.entries(DENIED_ADDRESS_RANGES).map(
  ([rule, ranges]) => [rule as HostRule, blockListOf(ranges)] as const,
);
const LOOPBACK = blockListOf(LOOPBACK_RANGES);

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
    this.#allowed = allowed && allowed.length > 0 ? blockListOf(allowed.map(asCidr)) : undefined;
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
