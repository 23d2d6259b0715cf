/**
 * smart-sidecar: a local HAProxy kept in step with Atlas. Services send
 * every call to it with the target service's name in `x-smart-service`;
 * instance changes reach HAProxy through its runtime API, without a reload.
 *
 * @example
 * import { createSidecarService } from 'smart-sidecar';
 * const app = await createSidecarService({ env: { ...process.env, SMART_ATLAS_URL: 'http://127.0.0.1:4100' } });
 * await app.start();
 */
export { codes, errorCodes, SmartSidecarError } from './errors.ts';
export { Haproxy, type HaproxyFiles } from './haproxy.ts';
export { cliCommand, parseServersState, parseShowProc, type ServerState } from './haproxy-cli.ts';
export { HostPolicy, type HostRule } from './host-policy.ts';
export { RegistryWatch, type RegistryWatchOptions, type SidecarLog } from './registry-watch.ts';
export { ReloadScheduler } from './reload-scheduler.ts';
export { type BackendModel, backendName, type RenderOptions, renderConfig, slotName, type Timeouts } from './render.ts';
export { type Refusal, screenInstance, screenService, type Target } from './screen.ts';
export { createSidecar, Sidecar, type SidecarEvents, type SidecarOptions } from './sidecar.ts';
export { sidecarConfig } from './sidecar-config.ts';
export { sidecarMetrics } from './sidecar-metrics.ts';
export { createSidecarService, SIDECAR_SERVICE, type SidecarServiceOptions } from './sidecar-service.ts';
export { adoptSlots, planSlots, type SlotPlan, slotCount } from './slots.ts';
