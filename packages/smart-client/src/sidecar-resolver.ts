import { SERVICE_HEADER } from 'smart-protocol';
import { invalidOption } from './errors.ts';
import type { Endpoint, ServiceResolver } from './resolvers.ts';

/** Options of {@link sidecarResolver}. */
export interface SidecarResolverOptions {
  /** The sidecar's frontend port (smart-sidecar's `sidecar.listen`). */
  readonly port: number;
  /** Default `127.0.0.1`: the sidecar runs on the same host. */
  readonly host?: string;
}

/**
 * The local sidecar (smart-sidecar: HAProxy kept in step with Atlas):
 * every service resolves to the one endpoint `http://127.0.0.1:<port>`,
 * which carries `x-smart-service: <service>` for HAProxy to route on.
 * Retries, deadlines and propagation still apply in the client; balancing
 * across instances, health checks and ejection are then HAProxy's. Knows
 * every service (HAProxy answers a 503 problem for one it does not).
 *
 * @example
 * createClient({ resolver: sidecarResolver({ port: 4180 }) });
 * // service://userstore/users/42 -> GET http://127.0.0.1:4180/users/42, x-smart-service: userstore
 */
export function sidecarResolver(options: SidecarResolverOptions): ServiceResolver {
  const { port } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption(`sidecarResolver: port must be an integer from 1 to 65535, not ${port}`);
  const host = options.host ?? '127.0.0.1';
  const origin = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${port}`).origin;
  // One endpoint list per service, made once: the hot path allocates nothing.
  const byService = new Map<string, readonly Endpoint[]>();
  return {
    name: 'sidecar',
    resolve(service) {
      let endpoints = byService.get(service);
      if (!endpoints) {
        endpoints = [{ id: `sidecar:${service}`, origin, headers: { [SERVICE_HEADER]: service } }];
        if (byService.size > 4_096) byService.clear();
        byService.set(service, endpoints);
      }
      return endpoints;
    },
  };
}
