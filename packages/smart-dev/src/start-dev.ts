import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { type AtlasClient, createAtlasClient } from 'atlas-client';
import { isAlive } from 'smart-service';
import { EmbeddedAtlas, findAtlasBin } from './atlas-process.ts';
import { type Dashboard, startDashboard } from './dashboard/dashboard-server.ts';
import { DevOutput } from './dev-output.ts';
import { DevServiceProcess } from './dev-service.ts';
import { discoverServices } from './discover.ts';
import { DevError, devErrorCodes } from './errors.ts';
import { parseJsonLine } from './log-format.ts';
import { type Backoff, DEFAULT_BACKOFF, type ExitInfo } from './supervised-process.ts';
import type { DevExit, DevLogLine, DevOptions, DevSession } from './types.ts';
import { watchTree } from './watch-tree.ts';

const KEEP_LINES = 2_000;
const DEBOUNCE_MS = 150;

function invalid(message: string): DevError {
  return new DevError(devErrorCodes.invalidOption, message);
}

function validate(options: DevOptions): void {
  if (!options || typeof options.root !== 'string' || options.root === '') throw invalid('root must be a folder path');
  const port = options.atlasPort;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw invalid(`atlasPort must be an integer from 0 to 65535, not ${port}`);
  }
  if (options.services !== undefined && !Array.isArray(options.services)) throw invalid('services must be an array');
}

class Session extends EventEmitter implements DevSession {
  readonly services: ReadonlyMap<string, DevServiceProcess>;
  readonly #options: DevOptions;
  readonly #output: DevOutput;
  readonly #atlas: EmbeddedAtlas;
  readonly #lines = new Map<string, DevLogLine[]>();
  readonly #all: DevLogLine[] = [];
  readonly #closers: (() => void)[] = [];
  readonly #waiters = new Set<() => void>();
  #client: AtlasClient | undefined;
  #dashboard: Dashboard | undefined;
  #summarised = false;
  #stopping: Promise<void> | undefined;
  readonly #killAll = () => this.kill();

  constructor(options: DevOptions, services: DevServiceProcess[], atlas: EmbeddedAtlas) {
    super();
    this.#options = options;
    this.services = new Map(services.map((s) => [s.name, s]));
    this.#atlas = atlas;
    const stream = options.output === false ? undefined : (options.output ?? process.stdout);
    this.#output = new DevOutput(stream, [...this.services.keys()]);
    atlas.on('line', (text: string) => this.#record({ service: 'atlas', line: text, json: parseJsonLine(text) }));
    // Our own unexpected exit must not leave the children running.
    process.once('exit', this.#killAll);
  }

  get atlasUrl(): string {
    return this.#atlas.url;
  }

  get dashboardUrl(): string | undefined {
    return this.#dashboard?.url;
  }

  /** The session's Atlas client (the dashboard's too). */
  atlasClient(): AtlasClient | undefined {
    return this.#client;
  }

  /** Starts the dashboard; resolves with its OTLP endpoint. */
  async startDashboard(port: number): Promise<string> {
    this.#dashboard = await startDashboard({ source: this, port });
    return this.#dashboard.otlpEndpoint;
  }

  /** Starts Atlas and waits until it listens; fails with its last lines if it exits or hangs. */
  async startAtlas(): Promise<void> {
    await this.#atlas.start((why) => this.#atlasFailure(why));
    this.#atlas.on('exit', (exit: ExitInfo) => {
      if (!exit.expected) this.#output.notice('atlas', crashText(exit), 'red');
    });
    this.#client = createAtlasClient({ url: this.atlasUrl, waitMs: 10_000 });
    await this.#forgetStale();
  }

  // Atlas keeps its data between sessions: instances of a session that
  // ended without deregistering (killed) would be resolved until their TTL
  // ran out. Every instance in this private Atlas was started by smart dev:
  // those whose process is gone are removed.
  async #forgetStale(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const services = await client.services('local').catch(() => []);
    for (const { service } of services) {
      const { data } = await client.instances(service, 'local').catch(() => ({ data: [] }));
      for (const instance of data) {
        const pid = Number(instance.metadata.pid);
        if (!(pid > 0 && isAlive(pid))) await client.deregister(service, instance.id).catch(() => {});
      }
    }
  }

  #atlasFailure(why: string): DevError {
    const tail = (this.#lines.get('atlas') ?? []).slice(-15).map((l) => `  ${l.line}`);
    return new DevError(
      devErrorCodes.atlasFailed,
      `the embedded Atlas ${why}${tail.length ? `; its last lines:\n${tail.join('\n')}` : ''}`,
    );
  }

  /** Starts every service, its Atlas watch and (unless off) its file watch. */
  startServices(): void {
    for (const service of this.services.values()) {
      service.on('line', (line: DevLogLine) => this.#record(line));
      service.on('listening', () => {
        this.#output.notice(service.name, `● listening at ${service.url}`, 'green');
        this.emit('listening', service);
        this.#checkReady();
      });
      service.on('exit', (exit: ExitInfo) => this.#onExit(service, exit));
      const watch = this.#client?.watchInstances(service.name, 'local', (instances) => {
        service.setInstances(instances);
        this.#checkReady();
      });
      if (watch) this.#closers.push(() => void watch.stop());
      if (this.#options.watch !== false) this.#watchFiles(service);
      service.start();
    }
  }

  #watchFiles(service: DevServiceProcess): void {
    let changed: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    const watcher = watchTree(service.dir, (file) => {
      if (this.#stopping) return;
      changed.push(file);
      clearTimeout(timer);
      // Editors write a file in several steps, and a save often touches several files: one restart for all.
      timer = setTimeout(() => {
        const files = [...new Set(changed)];
        changed = [];
        const detail = files.length > 1 ? `${files[0]} and ${files.length - 1} more` : String(files[0]);
        this.#output.notice(service.name, `↻ ${detail} changed: restarting`, 'cyan');
        this.emit('restart', service, 'change', detail);
        void service.restart();
      }, DEBOUNCE_MS);
    });
    this.#closers.push(() => {
      clearTimeout(timer);
      watcher.close();
    });
  }

  #onExit(service: DevServiceProcess, exit: ExitInfo): void {
    const devExit: DevExit = {
      pid: exit.pid,
      code: exit.code,
      signal: exit.signal,
      expected: exit.expected,
      restartInMs: exit.restartInMs,
    };
    this.emit('exit', service, devExit);
    if (exit.expected) return;
    this.#output.notice(service.name, crashText(exit), 'red');
    this.emit('restart', service, 'crash', exit.signal ?? `exit code ${exit.code}`);
    // A crashed process could not deregister itself: do it for it, so
    // callers stop being sent to a dead port before its TTL runs out.
    for (const instance of service.instances) {
      if (instance.metadata.pid === exit.pid) this.#client?.deregister(service.name, instance.id).catch(() => {});
    }
  }

  #record(line: DevLogLine): void {
    let lines = this.#lines.get(line.service);
    if (!lines) {
      lines = [];
      this.#lines.set(line.service, lines);
    }
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    this.#all.push(line);
    if (this.#all.length > KEEP_LINES * (this.services.size + 1)) this.#all.shift();
    this.#output.line(line);
    this.emit('log', line);
  }

  #allReady(): boolean {
    return [...this.services.values()].every((s) => s.ready);
  }

  #checkReady(): void {
    if (!this.#allReady()) return;
    if (!this.#summarised) {
      this.#summarised = true;
      this.#output.summary(
        [...this.services.values()],
        this.atlasUrl,
        this.#options.watch !== false,
        this.#dashboard?.url,
      );
    }
    for (const resolve of this.#waiters) resolve();
    this.#waiters.clear();
  }

  ready(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopping) return Promise.reject(notReady('the session is stopping'));
    if (this.#allReady()) return Promise.resolve();
    return new Promise((done, fail) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = () => {
        clearTimeout(timer);
        if (this.#stopping) fail(notReady('the session stopped'));
        else done();
      };
      this.#waiters.add(waiter);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          const waiting = [...this.services.values()].filter((s) => !s.ready).map((s) => s.name);
          fail(notReady(`not ready within ${options.timeoutMs} ms: ${waiting.join(', ')}`));
        }, options.timeoutMs);
      }
    });
  }

  logs(service?: string): readonly DevLogLine[] {
    return service === undefined ? [...this.#all] : [...(this.#lines.get(service) ?? [])];
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const waiter of this.#waiters) waiter();
      this.#waiters.clear();
      for (const close of this.#closers) close();
      const running = [...this.services.values()].filter((s) => s.pid !== undefined).length;
      if (running > 0) this.#output.notice('smart dev', `stopping ${running} service${running === 1 ? '' : 's'}…`);
      await Promise.all([...this.services.values()].map((s) => s.stop()));
      // Our watches end before Atlas does: the services deregistered through it on their way out.
      await this.#client?.close().catch(() => {});
      await this.#dashboard?.close().catch(() => {});
      await this.#atlas.stop();
      process.off('exit', this.#killAll);
      if (this.atlasUrl) this.#output.notice('smart dev', 'stopped');
    })();
    return this.#stopping;
  }

  kill(): void {
    for (const service of this.services.values()) service.kill();
    this.#atlas.kill();
  }
}

function crashText(exit: ExitInfo): string {
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  const next = exit.restartInMs === undefined ? '' : `: restarting in ${exit.restartInMs} ms`;
  return `✖ ${exit.code === 0 ? 'exited' : 'crashed'} (${how})${next}`;
}

function notReady(why: string): DevError {
  return new DevError(devErrorCodes.notReady, `smart dev: ${why}`);
}

/**
 * Runs a folder of services for development: an embedded Atlas (PGlite)
 * first, then every service as its own `node` process in realm `local`
 * pointed at it, restarted when its files change and, with back-off, when
 * it crashes. Lines of all of them are interleaved behind a coloured
 * `name │ ` prefix.
 *
 * @example
 * import { startDev } from 'smart-dev';
 *
 * const dev = await startDev({ root: 'examples/fibpro' });
 * await dev.ready();
 * console.log(dev.services.get('fib')?.url); // http://127.0.0.1:40123
 * await dev.stop();
 */
export async function startDev(options: DevOptions): Promise<DevSession> {
  validate(options);
  const root = resolve(options.root);
  const specs = await discoverServices(root, options.services);
  const atlasBin = findAtlasBin(root, options.atlasPackage);
  const backoff: Backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;

  const atlas = new EmbeddedAtlas({
    root,
    bin: atlasBin,
    port: options.atlasPort ?? 0,
    dataDir: resolve(root, options.atlasDataDir ?? join('.smart', 'atlas-dev')),
    backoff,
    stopTimeoutMs,
  });
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.SMART_ATLAS_TOKEN; // the embedded Atlas has auth off: no token of the shell's is sent anywhere
  const services = specs.map(
    (spec) =>
      new DevServiceProcess({
        spec,
        baseEnv: base,
        overrideEnv: options.env ?? {},
        backoff,
        stopTimeoutMs,
      }),
  );
  const session = new Session(options, services, atlas);
  try {
    await session.startAtlas();
  } catch (err) {
    await session.stop();
    throw err;
  }
  let otlp: string | undefined;
  try {
    if (options.dashboard !== false) otlp = await session.startDashboard(options.dashboard?.port ?? 0);
  } catch (err) {
    await session.stop();
    throw err;
  }
  Object.assign(base, {
    // Traces go to the dashboard unless the user points them elsewhere; sent
    // every 500 ms, so a request shows up while the user still looks.
    ...(otlp && !base.OTEL_EXPORTER_OTLP_ENDPOINT && !base.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp }
      : {}),
    ...(otlp && !base.OTEL_BSP_SCHEDULE_DELAY ? { OTEL_BSP_SCHEDULE_DELAY: '500' } : {}),
    NODE_ENV: 'development',
    SMART_REALM: 'local',
    SMART_HTTP__HOST: '127.0.0.1',
    SMART_HTTP__PORT: '0',
    SMART_ATLAS_URL: session.atlasUrl,
    SMART_LOG__PRETTY: 'false',
    ...options.env,
  });
  session.startServices();
  return session;
}
