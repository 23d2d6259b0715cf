/**
 * `smart dev` as a library: run a folder of services with an embedded Atlas.
 *
 * @example
 * import { startDev } from 'smart-service/dev';
 *
 * const dev = await startDev({ root: 'examples/fibpro', output: false });
 * await dev.ready();
 * const res = await fetch(`${dev.services.get('fib')?.url}/fib/10`);
 * await dev.stop();
 */
export { DevError, devErrorCodes } from '../errors.ts';
export { type DevCommandOptions, devCommand } from './dev-command.ts';
export { discoverServices, MANIFEST, type ServiceSpec } from './discover.ts';
export { startDev } from './start-dev.ts';
export type { DevExit, DevLogLine, DevOptions, DevService, DevSession, RestartReason } from './types.ts';
