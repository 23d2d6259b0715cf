import { defineConfig } from 'smart-service';
import { z } from 'zod';

const ms = (fallback: number) => z.number().int().min(0).default(fallback);
const port = z.number().int().min(0).max(65535);

/**
 * The sidecar's own config keys (beside every service's `http.*`, `log.*`,
 * ...): set like any key (`SMART_SIDECAR__LISTEN=4180`, a realm override,
 * Atlas). The bin's flags set them too (`--listen`).
 */
export const sidecarConfig = defineConfig({
  schema: z.object({
    http: z.object({ port }),
    sidecar: z.object({
      /** The realm whose services are routed; default the sidecar's own (`SMART_REALM`). */
      realm: z.string().optional(),
      /** The port services call (HAProxy's frontend). */
      listen: port.default(4180),
      /** Where the frontend listens: loopback, so only this host's services use it. */
      listenHost: z.string().default('127.0.0.1'),
      /** HAProxy's stats page (`/stats`) and Prometheus metrics (`/metrics`); 0 turns it off. */
      statsPort: port.default(4182),
      /** Where haproxy.cfg and HAProxy's sockets live, relative to the working directory. */
      dir: z.string().default('.smart/sidecar'),
      /** Free server slots a backend has at least (filled without a reload). */
      slots: z.number().int().min(1).max(1_000).default(8),
      /** A reload waits this long, so a burst of new services is one reload. */
      reloadDebounceMs: ms(100),
      /** Two reloads never start closer than this. */
      reloadMinIntervalMs: ms(1_000),
      /** CIDRs instances may have; empty: any but link-local, unspecified, multicast (and loopback outside realm local). */
      allowedHosts: z.array(z.string()).default([]),
      /** The `haproxy` binary. */
      haproxyBin: z.string().default('haproxy'),
      /** Health check interval of each server (`GET /health/ready`), and while it changes state. */
      checkIntervalMs: ms(2_000),
      checkFastIntervalMs: ms(500),
    }),
  }),
  // The sidecar's own health and metrics port (HAProxy's frontend is `sidecar.listen`).
  defaults: { http: { port: 4181 } },
});
