/**
 * `smart dev` as a library: run a folder of services with an embedded Atlas
 * and the dashboard; `smart monitor` as a function.
 *
 * @example
 * import { startDev } from 'smart-dev';
 *
 * const dev = await startDev({ root: 'examples/fibpro', output: false });
 * await dev.ready();
 * const res = await fetch(`${dev.services.get('fib')?.url}/fib/10`);
 * await dev.stop();
 */
export { runCli } from './cli.ts';
export {
  type Dashboard,
  type DashboardOptions,
  type DashboardSource,
  startDashboard,
} from './dashboard/dashboard-server.ts';
export { type DevSpan, decodeTraces } from './dashboard/otlp.ts';
export type { TraceSummary } from './dashboard/trace-store.ts';
export { type DevCommandOptions, devCommand } from './dev-command.ts';
export { discoverServices, MANIFEST, type ServiceSpec } from './discover.ts';
export { DevError, devErrorCodes, errorCodes } from './errors.ts';
export { type MonitorCommandOptions, monitorCommand } from './monitor/monitor-command.ts';
export { startDev } from './start-dev.ts';
export type { DevExit, DevLogLine, DevOptions, DevService, DevSession, RestartReason } from './types.ts';
