import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { type BlockList, isIP } from 'node:net';
import { blockListOf, DENIED_ADDRESS_RANGES } from 'smart-protocol';
import { notAllowed } from './errors.ts';

/**
 * Addresses no call connects to unless `deniedAddresses` says otherwise:
 * smart-protocol's denied ranges (link-local, where cloud metadata services
 * answer, in every IPv6 spelling; unspecified; multicast), the ones Atlas
 * refuses at registration too.
 */
export const DEFAULT_DENIED_ADDRESSES: readonly string[] = Object.values(DENIED_ADDRESS_RANGES).flat();

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** A CIDR (`10.0.0.0/8`, `fd00::/8`) or a single IP address. */
export function isCidr(text: string): boolean {
  const [address = '', bits, ...rest] = text.split('/');
  if (rest.length > 0 || isIP(address) === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (isIP(address) === 6 ? 128 : 32);
}

/** The host of a URL's hostname without IPv6 brackets or a zone. */
const bare = (host: string) => (host.startsWith('[') ? host.slice(1, -1) : host).replace(/%.*$/, '');

/**
 * Which addresses calls may connect to: a deny list of CIDRs (always
 * applied, to the address actually connected to), and the optional allow
 * list of `allowedHosts` (host names, RegExps, and CIDRs).
 *
 * The check runs where the address is known: for an IP literal, before any
 * socket (the balance layer's `HostGuard`); for a DNS name, inside the
 * agent's connect-time `lookup`, on every address the name resolves to, so a
 * name resolving to 169.254.169.254 never gets a socket either.
 *
 * @example
 * const policy = new AddressPolicy({ allowedHosts: ['10.0.0.0/8', /\.internal$/] });
 * policy.allowsAddress('169.254.169.254'); // false
 */
export class AddressPolicy {
  readonly #denied: BlockList;
  readonly #names: readonly (string | RegExp)[] | undefined;
  readonly #allowedNets: BlockList | undefined;

  constructor(options: { allowedHosts?: readonly (string | RegExp)[]; deniedAddresses?: readonly string[] } = {}) {
    this.#denied = blockListOf(options.deniedAddresses ?? DEFAULT_DENIED_ADDRESSES);
    const allowed = options.allowedHosts;
    if (allowed) {
      this.#names = allowed.filter((entry) => typeof entry !== 'string' || !isCidr(entry));
      const nets = allowed.filter((entry): entry is string => typeof entry === 'string' && isCidr(entry));
      if (nets.length > 0) this.#allowedNets = blockListOf(nets);
    }
  }

  /** An IP address a call may connect to: not denied, and inside the allowed networks when some are listed. */
  allowsAddress(address: string): boolean {
    const ip = bare(address);
    const kind = family(ip);
    if (this.#denied.check(ip, kind)) return false;
    return this.#allowedNets ? this.#allowedNets.check(ip, kind) : true;
  }

  /**
   * An origin's host (a URL's `hostname`): an IP literal is checked as an
   * address (and may also be listed by name); a name must be in the allow
   * list when there is one (its addresses are checked at connect time).
   */
  allowsHost(hostname: string): boolean {
    const host = bare(hostname);
    const byName = this.#names?.some((p) => (typeof p === 'string' ? p === host : p.test(host)));
    if (isIP(host) !== 0) {
      if (this.#denied.check(host, family(host))) return false;
      return this.#names === undefined || byName === true || this.#allowedNets?.check(host, family(host)) === true;
    }
    return this.#names === undefined || byName === true;
  }

  /**
   * A `lookup` for `net.connect` (undici's `connect` option): resolves with
   * `dns.lookup` and fails with `SMART_CLIENT_ADDRESS_NOT_ALLOWED` if any
   * address it would connect to is not allowed, before a socket connects.
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, options, (err, address, resolvedFamily) => {
      if (err) return callback(err, '', 0);
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const refused = addresses.find((a) => !this.allowsAddress(a));
      if (refused !== undefined) return callback(notAllowed(`${hostname} (${refused})`) as never, '', 0);
      callback(null, address, resolvedFamily);
    });
  };
}
