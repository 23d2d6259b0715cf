import { CodedError, createError } from 'smart-protocol';

/**
 * The sidecar's errors; callers match `code`.
 *
 * @example
 * if (err instanceof SmartSidecarError && err.code === codes.haproxyMissing) ...
 */
export class SmartSidecarError extends CodedError {}

export const codes = {
  invalidOption: 'SMART_SIDECAR_INVALID_OPTION',
  haproxyMissing: 'SMART_SIDECAR_HAPROXY_MISSING',
  haproxyStart: 'SMART_SIDECAR_HAPROXY_START_FAILED',
  invalidConfig: 'SMART_SIDECAR_INVALID_HAPROXY_CONFIG',
  runtimeCommand: 'SMART_SIDECAR_RUNTIME_COMMAND_FAILED',
  reloadFailed: 'SMART_SIDECAR_RELOAD_FAILED',
  /** Answered by HAProxy itself (a problem+json body), never thrown in Node. */
  unknownService: 'SMART_SIDECAR_UNKNOWN_SERVICE',
  noInstances: 'SMART_SIDECAR_NO_INSTANCES',
  noServiceHeader: 'SMART_SIDECAR_NO_SERVICE_HEADER',
  upstreamUnavailable: 'SMART_SIDECAR_UPSTREAM_UNAVAILABLE',
  upstreamTimeout: 'SMART_SIDECAR_UPSTREAM_TIMEOUT',
} as const;

/** Every error code of this package (including those HAProxy answers with). */
export const errorCodes = Object.values(codes);

const base = SmartSidecarError;
const InvalidOption = createError(codes.invalidOption, 500, 'invalid sidecar option %s: %s', { base });
const HaproxyMissing = createError(
  codes.haproxyMissing,
  500,
  'HAProxy was not found at "%s": install it (Debian: apt-get install -y haproxy) or set sidecar.haproxy.bin',
  { base },
);
const HaproxyStart = createError(codes.haproxyStart, 500, 'HAProxy did not start: %s', { base });
const InvalidConfig = createError(codes.invalidConfig, 500, 'HAProxy refused the rendered configuration: %s', {
  base,
});
const RuntimeCommand = createError(codes.runtimeCommand, 500, 'HAProxy runtime command "%s" failed: %s', { base });
const ReloadFailed = createError(codes.reloadFailed, 500, 'HAProxy reload failed: %s', { base });

/** 500: a sidecar option (or config key) is wrong; `name` says which. */
export const invalidOption = (name: string, why: string) => new InvalidOption(name, why);

/** 500 at startup: no `haproxy` binary where the sidecar looked. */
export const haproxyMissing = (bin: string) => new HaproxyMissing(bin);

/** 500 at startup: HAProxy exited, or its master socket never answered. */
export const haproxyStart = (why: string) => new HaproxyStart(why);

/** 500: `haproxy -c` refused a rendered file (a bug: the file is not used, the running one stays). */
export const invalidConfig = (why: string) => new InvalidConfig(why);

/** 500: the runtime API answered an error to a command. */
export const runtimeCommandFailed = (command: string, why: string) => new RuntimeCommand(command, why);

/** 500: the master did not come back with a new worker. */
export const reloadFailed = (why: string) => new ReloadFailed(why);
