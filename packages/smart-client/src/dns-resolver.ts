import { promises as dns } from 'node:dns';
import { invalidOption, unavailable } from './errors.ts';
import type { Endpoint, ServiceResolver } from './resolvers.ts';

/** Options of {@link dnsResolver}. */
export interface DnsResolverOptions {
  /**
   * The DNS name of a service in a realm, `{service}` and `{realm}` filled in.
   * Default `{service}.{realm}.svc.cluster.local` (a Kubernetes headless
   * service, one namespace per realm); Consul: `{service}.service.consul`.
   */
  readonly name?: string;
  /**
   * `srv` (default): SRV records of the name give host and port, each target
   * resolved to its A/AAAA addresses (Consul DNS, and Kubernetes at
   * `_<port>._tcp.<service>...`). `a`: the name's A and AAAA records, at `port`.
   */
  readonly records?: 'srv' | 'a';
  /** The port for `records: 'a'`. Default 80. */
  readonly port?: number;
  /** DNS servers (`127.0.0.1:5353`, `[::1]:53`); default the system's. */
  readonly servers?: readonly string[];
  /** A lookup fails after this (per try). Default 1000 ms. */
  readonly timeoutMs?: number;
  /**
   * Longest an answer is kept, whatever its TTL says; also the TTL of SRV
   * answers (node:dns does not give theirs): their addresses' TTL applies
   * when shorter. Default 30 s.
   */
  readonly maxTtlMs?: number;
  /** How long "no such name" is remembered. Default 1 s. */
  readonly negativeTtlMs?: number;
  /** Told of each failed lookup (the last good answer is used meanwhile, when there is one). */
  readonly onError?: (err: Error) => void;
}

interface Answer {
  readonly endpoints: readonly Endpoint[];
  readonly expiresAt: number;
}

interface Addresses {
  readonly ips: string[];
  readonly ttlMs: number;
}

// NXDOMAIN and "no records of that type": the name does not resolve (as opposed to DNS being down).
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA']);
const isNotFound = (err: unknown) => NOT_FOUND.has((err as { code?: string }).code ?? '');

const origin = (ip: string, port: number) => `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

/**
 * Discovery through DNS, as Kubernetes headless services and Consul DNS
 * serve it: SRV records (host and port; the lowest priority only, weights
 * left to the balancer) or A/AAAA records at a fixed port. Answers are kept
 * for their TTL and the first call after it looks again (concurrent calls
 * share one lookup); while DNS fails, the last answer stays in use. A name
 * that does not resolve gives no endpoint, so the call fails with
 * `SMART_CLIENT_NO_INSTANCES` before any socket is opened; DNS down with no
 * answer yet is `SMART_CLIENT_UNAVAILABLE`.
 *
 * @example
 * createClient({ resolver: dnsResolver({ name: '{service}.service.consul', servers: ['127.0.0.1:8600'] }) });
 * // service://pricing/quote -> SRV pricing.service.consul -> http://10.0.4.2:21877/quote
 */
export function dnsResolver(options: DnsResolverOptions = {}): ServiceResolver {
  const template = options.name ?? '{service}.{realm}.svc.cluster.local';
  const records = options.records ?? 'srv';
  const port = options.port ?? 80;
  const maxTtlMs = options.maxTtlMs ?? 30_000;
  const negativeTtlMs = options.negativeTtlMs ?? 1_000;
  if (records !== 'srv' && records !== 'a')
    throw invalidOption(`dnsResolver: records must be "srv" or "a", not ${records}`);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption(`dnsResolver: port must be an integer from 1 to 65535, not ${port}`);
  if (!template.includes('{service}')) throw invalidOption('dnsResolver: name must contain {service}');
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 1_000, tries: 2 });
  if (options.servers?.length) {
    try {
      resolver.setServers([...options.servers]);
    } catch (err) {
      throw invalidOption(`dnsResolver: servers: ${(err as Error).message}`);
    }
  }

  const answers = new Map<string, Answer>();
  const pending = new Map<string, Promise<readonly Endpoint[]>>();

  // A and AAAA of a host, with the shorter TTL; none when it has neither.
  async function addresses(host: string): Promise<Addresses> {
    const settled = await Promise.allSettled([
      resolver.resolve4(host, { ttl: true }),
      resolver.resolve6(host, { ttl: true }),
    ]);
    const found = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
    const failure = settled.find((s) => s.status === 'rejected' && !isNotFound(s.reason));
    if (found.length === 0 && failure) throw (failure as PromiseRejectedResult).reason;
    const ttl = Math.min(maxTtlMs / 1_000, ...found.map((r) => r.ttl));
    return { ips: found.map((r) => r.address), ttlMs: ttl * 1_000 };
  }

  async function lookup(name: string): Promise<Answer> {
    if (records === 'a') {
      const { ips, ttlMs } = await addresses(name);
      const endpoints = ips.map((ip) => ({ id: `${ip}:${port}`, origin: origin(ip, port) }));
      return { endpoints, expiresAt: Date.now() + (endpoints.length ? ttlMs : negativeTtlMs) };
    }
    const srv = await resolver.resolveSrv(name);
    const best = Math.min(...srv.map((r) => r.priority));
    const chosen = srv.filter((r) => r.priority === best);
    const targets = await Promise.all(chosen.map(async (r) => ({ record: r, found: await addresses(r.name) })));
    const endpoints = targets.flatMap(({ record, found }) =>
      found.ips.map((ip) => ({ id: `${ip}:${record.port}`, origin: origin(ip, record.port) })),
    );
    const ttlMs = Math.min(maxTtlMs, ...targets.map((t) => t.found.ttlMs));
    return { endpoints, expiresAt: Date.now() + (endpoints.length ? ttlMs : negativeTtlMs) };
  }

  function refresh(name: string, service: string): Promise<readonly Endpoint[]> {
    let running = pending.get(name);
    if (running) return running;
    running = lookup(name)
      .catch((err: unknown) => {
        if (isNotFound(err)) return { endpoints: [], expiresAt: Date.now() + negativeTtlMs };
        options.onError?.(err as Error);
        const last = answers.get(name);
        // DNS down: the last answer, looked at again a moment later.
        if (last) return { endpoints: last.endpoints, expiresAt: Date.now() + negativeTtlMs };
        throw unavailable(`DNS for ${service} (${name})`, err);
      })
      .then((answer) => {
        if (answers.size > 4_096) answers.clear();
        answers.set(name, answer);
        return answer.endpoints;
      })
      .finally(() => pending.delete(name));
    pending.set(name, running);
    return running;
  }

  return {
    name: 'dns',
    resolve(service, realm) {
      const name = template.replaceAll('{service}', service).replaceAll('{realm}', realm);
      const answer = answers.get(name);
      if (answer && answer.expiresAt > Date.now()) return answer.endpoints;
      return refresh(name, service);
    },
  };
}
