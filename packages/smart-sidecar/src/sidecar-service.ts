import { existsSync, readFileSync } from 'node:fs';
import { createAtlasClient } from 'atlas-client';
import { isRealm } from 'smart-protocol';
import {
  createSmartService,
  type SmartService,
  type SmartServiceConfig,
  type SmartServiceOptions,
} from 'smart-service';
import { invalidOption } from './errors.ts';
import { Sidecar } from './sidecar.ts';
import { sidecarConfig } from './sidecar-config.ts';
import { sidecarMetrics } from './sidecar-metrics.ts';

/** The sidecar's service name: in its log lines and metrics, and left out of its own routing. */
export const SIDECAR_SERVICE = 'smart-sidecar';

// src/.. in the workspace, dist/src/../.. once published.
const manifest = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find(
  (url) => existsSync(url),
) as URL;
const VERSION = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;

/** Options of `createSidecarService`: those of any smart service (env, realm, sources, log destination). */
export type SidecarServiceOptions = Pick<
  SmartServiceOptions<typeof sidecarConfig>,
  'env' | 'realm' | 'sources' | 'logDestination' | 'root'
>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The sidecar (in the smart-sidecar service only). */
    readonly sidecar: Sidecar;
  }
}

/**
 * The sidecar as a smart service: its config (`sidecar.*`, from defaults,
 * realm, `SMART_*` variables and Atlas), logs, `/health/ready` (HAProxy's
 * master answers and the first sync is done) and `/metrics` (renders,
 * runtime changes, reloads, refused entries, Atlas lag). HAProxy is running
 * when it resolves; `app.start()` opens the sidecar's own HTTP port, and
 * closing the app stops HAProxy (when the sidecar started it).
 *
 * @example
 * const app = await createSidecarService({ env: { ...process.env, SMART_ATLAS_URL: 'http://atlas:4100' } });
 * await app.start();
 */
export async function createSidecarService(
  options: SidecarServiceOptions = {},
): Promise<SmartService<SmartServiceConfig<typeof sidecarConfig>>> {
  const env = options.env ?? process.env;
  const url = env.SMART_ATLAS_URL;
  if (!url) throw invalidOption('atlas', 'give --atlas <url> or set SMART_ATLAS_URL');
  const app = await createSmartService({ ...options, name: SIDECAR_SERVICE, version: VERSION, config: sidecarConfig });
  const config = app.config.sidecar;
  const realm = config.realm ?? app.realm;
  if (!isRealm(realm)) {
    await app.close();
    throw invalidOption('sidecar.realm', `"${realm}" is not a realm name`);
  }
  const atlas = createAtlasClient({ url, token: env.SMART_ATLAS_TOKEN });
  let sidecar: Sidecar | undefined;
  const events = app.hasDecorator('metrics') ? sidecarMetrics(app.metrics, () => sidecar) : {};
  sidecar = new Sidecar({
    atlas,
    realm,
    listen: { host: config.listenHost, port: config.listen },
    stats: config.statsPort > 0 ? { host: config.listenHost, port: config.statsPort } : undefined,
    dir: config.dir,
    haproxyBin: config.haproxyBin,
    slots: config.slots,
    reload: { debounceMs: config.reloadDebounceMs, minIntervalMs: config.reloadMinIntervalMs },
    allowedHosts: config.allowedHosts,
    check: { intervalMs: config.checkIntervalMs, fastIntervalMs: config.checkFastIntervalMs },
    ignore: [SIDECAR_SERVICE],
    log: app.log,
    events,
  });
  app.decorate('sidecar', sidecar);
  app.healthCheck('haproxy', async () => {
    if (!sidecar.ready) throw new Error('HAProxy is not in step with Atlas yet');
    await sidecar.ping();
  });
  app.addHook('onClose', async () => {
    await sidecar.close();
    await atlas.close();
  });
  try {
    await sidecar.start();
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  return app;
}
