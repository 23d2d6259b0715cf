/** Options of `startDev`. */
export interface DevOptions {
  /** The folder of services: a `smart-dev.json`, or subfolders with package.json + src/server.ts. */
  readonly root: string;
  /** Only these services (by name); all by default. */
  readonly services?: readonly string[];
  /** Restart a service when a file in its folder changes; default true. */
  readonly watch?: boolean;
  /** Where the interleaved, prefixed lines go (coloured when a terminal); default stdout; false: nowhere. */
  readonly output?: NodeJS.WritableStream | false;
  /** Extra environment for every service (database URLs, `SMART_LOG__LEVEL`, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** The embedded Atlas's port; default 0 (a free one). */
  readonly atlasPort?: number;
  /** The smart-atlas package folder, when it is not installed where the root or smart-service can find it. */
  readonly atlasPackage?: string;
  /** Where the embedded Atlas keeps its data; default `<root>/.smart/atlas-dev`. */
  readonly atlasDataDir?: string;
  /**
   * The dashboard (traces, logs, config, monitor) and its OTLP receiver; on
   * by default, on a free port (the CLI prefers 4200). `false`: none.
   */
  readonly dashboard?: false | { readonly port?: number };
  /** How long a stopping service may take before it is killed; default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Crash restart back-off: first delay, cap, and the uptime after which it starts over. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly resetAfterMs?: number };
}

/** One service of a dev session, as it is now (the object stays current). */
export interface DevService {
  readonly name: string;
  /** Its folder (absolute). */
  readonly dir: string;
  /** `http://127.0.0.1:PORT` once listening; undefined while (re)starting. */
  readonly url: string | undefined;
  /** The running process's pid; undefined while it is not running. */
  readonly pid: number | undefined;
  /** How many times it was started again (file changes and crashes). */
  readonly restarts: number;
}

/** A line a service (or Atlas, as `atlas`) wrote, on stdout or stderr. */
export interface DevLogLine {
  readonly service: string;
  readonly line: string;
  /** The parsed JSON line (pino), or undefined for other text. */
  readonly json: Record<string, unknown> | undefined;
}

/** Why a service started again. */
export type RestartReason = 'change' | 'crash';

/** How a service's process ended. */
export interface DevExit {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** False for a crash: an exit smart dev did not ask for. */
  readonly expected: boolean;
  /** When it starts again after a crash (the back-off). */
  readonly restartInMs: number | undefined;
}

/** A running dev session. */
export interface DevSession {
  /** The embedded Atlas, e.g. `http://127.0.0.1:4100`. */
  readonly atlasUrl: string;
  /** The dashboard, e.g. `http://127.0.0.1:4200`; undefined when turned off. */
  readonly dashboardUrl: string | undefined;
  /** Every service, by name. */
  readonly services: ReadonlyMap<string, DevService>;
  /** Resolves when every service listens AND its current process is registered in Atlas. */
  ready(options?: { timeoutMs?: number }): Promise<void>;
  /** The captured lines (stdout and stderr), oldest first; the last 2,000 per service. */
  logs(service?: string): readonly DevLogLine[];
  on(event: 'log', listener: (line: DevLogLine) => void): this;
  on(event: 'listening', listener: (service: DevService) => void): this;
  on(event: 'exit', listener: (service: DevService, exit: DevExit) => void): this;
  on(event: 'restart', listener: (service: DevService, reason: RestartReason, detail: string) => void): this;
  /** Graceful: SIGTERM every service and wait, then stop Atlas. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL everything at once (a second Ctrl-C). Synchronous. */
  kill(): void;
}
