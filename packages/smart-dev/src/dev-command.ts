import { portOr } from './atlas-process.ts';
import { DevError, devErrorCodes } from './errors.ts';
import { startDev } from './start-dev.ts';
import type { DevSession } from './types.ts';

/** The `smart dev` command line, as commander parses it. */
export interface DevCommandOptions {
  readonly root: string;
  /** Comma-separated service names (`--only a,b`). */
  readonly only?: string | undefined;
  /** `--no-watch` makes it false. */
  readonly watch?: boolean | undefined;
  /** `--atlas-port N`; without it 4100, or a free port when 4100 is taken. */
  readonly atlasPort?: string | undefined;
  /** `--dashboard-port N`; without it 4200, or a free port when 4200 is taken. */
  readonly dashboardPort?: string | undefined;
  /** `--no-dashboard` makes it false. */
  readonly dashboard?: boolean | undefined;
  readonly output?: NodeJS.WritableStream;
}

/** The port Atlas prefers, as `smart-atlas serve` does, so `smart-atlas services` finds it without flags. */
export const DEFAULT_ATLAS_PORT = 4100;
/** The dashboard's preferred port. */
export const DEFAULT_DASHBOARD_PORT = 4200;

function parsePort(text: string, option = '--atlas-port'): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new DevError(devErrorCodes.invalidOption, `${option} must be a port number (0-65535), not "${text}"`);
  }
  return port;
}

/**
 * `smart dev [root]`: runs the services until SIGINT or SIGTERM, then stops
 * them all gracefully and resolves with exit code 0; a second signal kills
 * everything at once (exit code 1). A signal that arrives while Atlas is
 * still starting stops the session as soon as it has started.
 *
 * @example
 * process.exitCode = await devCommand({ root: '.', only: 'orders,users' });
 */
export async function devCommand(options: DevCommandOptions): Promise<number> {
  let session: DevSession | undefined;
  let signals = 0;
  let stopRequested: () => void = () => {};
  const stopWanted = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  let killedAll: (code: number) => void = () => {};
  const killed = new Promise<number>((resolve) => {
    killedAll = resolve;
  });
  const onSignal = () => {
    signals += 1;
    if (signals === 1) {
      stopRequested();
    } else {
      // The second signal: no more waiting for anyone.
      session?.kill();
      killedAll(1);
    }
  };
  const handled = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of handled) process.on(signal, onSignal);
  try {
    const services = options.only
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const atlasPort =
      options.atlasPort === undefined ? await portOr(DEFAULT_ATLAS_PORT) : parsePort(String(options.atlasPort));
    const dashboardPort =
      options.dashboardPort === undefined
        ? await portOr(DEFAULT_DASHBOARD_PORT)
        : parsePort(String(options.dashboardPort), '--dashboard-port');
    const starting = startDev({
      root: options.root,
      watch: options.watch !== false,
      atlasPort,
      dashboard: options.dashboard === false ? false : { port: dashboardPort },
      ...(services ? { services } : {}),
      ...(options.output ? { output: options.output } : {}),
    });
    // A second signal while Atlas is still starting (it may hang for up to
    // 60 s) must not wait for it: the session kills its children when this
    // process exits, and when it has started after all.
    const started = await Promise.race([starting, killed]);
    if (typeof started === 'number') {
      starting.then((late) => late.kill()).catch(() => {});
      return started;
    }
    session = started;
    if (signals > 1) {
      session.kill();
      return 1;
    }
    await stopWanted;
    return await Promise.race([session.stop().then(() => 0), killed]);
  } finally {
    for (const signal of handled) process.off(signal, onSignal);
  }
}
