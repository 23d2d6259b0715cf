import { CodedError } from 'smart-protocol';

/**
 * `smart dev` or `smart monitor` could not start or was given bad input.
 * `code` says which: see {@link devErrorCodes}. (These were
 * `SMART_SERVICE_DEV_*` while smart dev lived in smart-service.)
 *
 * @example
 * await startDev({ root }).catch((err) => { if (err.code === devErrorCodes.noAtlas) ... });
 */
export class DevError extends CodedError {
  constructor(code: (typeof devErrorCodes)[keyof typeof devErrorCodes], message: string, options?: ErrorOptions) {
    super(code, 500, message, options);
  }
}

/** The codes of {@link DevError}. */
export const devErrorCodes = {
  /** `smart-atlas` is not installed where the services or smart-dev can find it. */
  noAtlas: 'SMART_DEV_NO_ATLAS',
  /** The embedded Atlas exited or did not listen in time. */
  atlasFailed: 'SMART_DEV_ATLAS_FAILED',
  /** The folder has no services (no manifest and no folder with package.json + src/server.ts). */
  noServices: 'SMART_DEV_NO_SERVICES',
  /** `smart-dev.json` is not valid. */
  badManifest: 'SMART_DEV_BAD_MANIFEST',
  /** `--only` / `services` names a service the folder does not have. */
  unknownService: 'SMART_DEV_UNKNOWN_SERVICE',
  /** A `startDev` option is invalid (a port out of range, a missing root). */
  invalidOption: 'SMART_DEV_INVALID_OPTION',
  /** Another smart dev session uses the same Atlas data folder. */
  alreadyRunning: 'SMART_DEV_ALREADY_RUNNING',
  /** `session.ready({ timeoutMs })` ran out of time, or the session stopped first. */
  notReady: 'SMART_DEV_NOT_READY',
  /** `smart monitor` could not read the catalog from Atlas. */
  atlasUnreachable: 'SMART_DEV_ATLAS_UNREACHABLE',
} as const;

/** Every error code of this package. */
export const errorCodes = Object.values(devErrorCodes);
