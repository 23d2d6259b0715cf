import { createAtlasClient } from 'atlas-client';
import { DevError, devErrorCodes } from '../errors.ts';
import { liveVersions, versionsText } from './live-versions.ts';
import { MetricsCollector, type ScrapeTarget } from './metrics-collector.ts';
import { monitorTable } from './monitor-table.ts';

/** `smart monitor`'s options, as commander parses them. */
export interface MonitorCommandOptions {
  readonly atlas?: string | undefined;
  readonly realm?: string | undefined;
  readonly token?: string | undefined;
  /** Milliseconds between refreshes (a string from the command line). */
  readonly interval?: string | number | undefined;
  readonly output?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Stops the monitor (a test's); SIGINT and SIGTERM do too. */
  readonly signal?: AbortSignal;
}

/**
 * `smart monitor`: finds every instance of every service in a realm through
 * Atlas, scrapes their `/metrics` every second and redraws a table of each
 * service and its upstreams (requests/s, % errors, p50, p99 over the last
 * 10 s) and the versions of each that are live. Works against any Atlas and realm. Resolves with the exit code
 * once interrupted.
 *
 * @example
 * process.exitCode = await monitorCommand({ atlas: 'http://127.0.0.1:4100', realm: 'local' });
 */
export async function monitorCommand(options: MonitorCommandOptions): Promise<number> {
  const url = options.atlas ?? process.env.SMART_ATLAS_URL ?? 'http://127.0.0.1:4100';
  const realm = options.realm ?? process.env.SMART_REALM ?? 'local';
  const intervalMs = Number(options.interval ?? 1_000);
  if (!(intervalMs >= 100))
    throw new DevError(devErrorCodes.invalidOption, `--interval must be at least 100 (ms), not ${options.interval}`);
  const token = options.token ?? process.env.SMART_ATLAS_TOKEN;
  const atlas = createAtlasClient({ url, ...(token ? { token } : {}), timeoutMs: 2_000 });
  const out = options.output ?? process.stdout;
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  try {
    await atlas.services(realm);
  } catch (err) {
    await atlas.close();
    throw new DevError(
      devErrorCodes.atlasUnreachable,
      `cannot read realm ${realm} from Atlas at ${url}: ${(err as Error).message}`,
    );
  }
  let instances = new Map<string, number>();
  let versions = new Map<string, string>();
  let atlasProblem = '';
  const targets = async (): Promise<ScrapeTarget[]> => {
    try {
      const found: ScrapeTarget[] = [];
      const counts = new Map<string, number>();
      const live = new Map<string, string>();
      for (const { service } of await atlas.services(realm)) {
        const { data } = await atlas.instances(service, realm);
        counts.set(service, data.length);
        live.set(service, versionsText(liveVersions(data)));
        for (const instance of data) found.push({ service, url: instance.url });
      }
      instances = counts;
      versions = live;
      atlasProblem = '';
      return found;
    } catch (err) {
      atlasProblem = `Atlas: ${(err as Error).message}`;
      return [];
    }
  };
  const collector = new MetricsCollector(targets, { intervalMs });
  collector.onRound(() => {
    const header = `smart monitor · realm ${realm} · ${url} · ${new Date().toLocaleTimeString()} · last 10 s`;
    const lines = [
      header,
      '',
      ...monitorTable(collector.history, instances, versions),
      '',
      atlasProblem || 'Ctrl-C to quit',
    ];
    // A terminal is redrawn in place; a pipe gets one block per round.
    out.write(tty ? `\x1b[H\x1b[2J${lines.join('\n')}\n` : `${lines.join('\n')}\n\n`);
  });
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    options.signal?.addEventListener('abort', stop, { once: true });
  });
  collector.start();
  await stopped;
  collector.stop();
  await atlas.close();
  return 0;
}
