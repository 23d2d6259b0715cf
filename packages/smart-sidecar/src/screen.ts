import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Instance } from 'atlas-client';
import { HOST_PATTERN, INSTANCE_ID_PATTERN, isServiceName } from 'smart-protocol';
import type { HostPolicy } from './host-policy.ts';

/** An instance the sidecar may write into HAProxy: its id, and an IP address and port. */
export interface Target {
  readonly id: string;
  readonly address: string;
  readonly port: number;
}

/** Registry data the sidecar would not use, and why (for its log line). */
export interface Refusal {
  readonly what: 'service' | 'instance';
  /** The offending name, as JSON would quote it (so a CR/LF shows as `\r\n`, never breaks a line). */
  readonly name: string;
  readonly reason: string;
}

const quoted = (text: unknown) => JSON.stringify(String(text)).slice(1, -1).slice(0, 200);

/** Why a service name from the registry is refused, or undefined when it is a service name. */
export function screenService(name: unknown): Refusal | undefined {
  if (typeof name === 'string' && isServiceName(name)) return undefined;
  return { what: 'service', name: quoted(name), reason: 'not a service name (kebab-case, at most 63 characters)' };
}

/**
 * Checks one registry instance before anything of it reaches HAProxy: its
 * id and host must be names of the expected shape (no CR/LF, spaces or
 * `;`, which would end a config line or chain a runtime command), its port
 * a port, and its address, after DNS resolution, allowed by the policy.
 * Host names are resolved here, so the address HAProxy gets is the one
 * checked.
 *
 * @example
 * const result = await screenInstance(instance, policy);
 * if ('reason' in result) log.warn(result, 'registry entry refused');
 */
export async function screenInstance(instance: Instance, policy: HostPolicy): Promise<Target | Refusal> {
  const name = `${quoted(instance.service)}/${quoted(instance.id)}`;
  const refuse = (reason: string): Refusal => ({ what: 'instance', name, reason });
  if (typeof instance.id !== 'string' || !INSTANCE_ID_PATTERN.test(instance.id)) return refuse('not an instance id');
  if (!Number.isInteger(instance.port) || instance.port < 1 || instance.port > 65535) return refuse('not a port');
  const host = instance.host;
  if (typeof host !== 'string' || !HOST_PATTERN.test(host)) return refuse(`host "${quoted(host)}" is not a host`);
  let address = host;
  if (isIP(host) === 0) {
    try {
      address = (await lookup(host)).address;
    } catch (err) {
      return refuse(`host ${host} does not resolve: ${(err as Error).message}`);
    }
  }
  const rule = policy.refusal(address);
  if (rule) return refuse(`address ${address} of host ${host} is refused (${rule})`);
  return { id: instance.id, address: canonical(address), port: instance.port };
}

// An IPv4-mapped IPv6 address becomes the IPv4 address HAProxy connects to.
function canonical(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}
