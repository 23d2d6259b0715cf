import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { haproxyMissing, haproxyStart, invalidConfig, reloadFailed, runtimeCommandFailed } from './errors.ts';
import { cliCommand, parseShowProc } from './haproxy-cli.ts';

const run = promisify(execFile);

/** Where HAProxy's files are and how to run it. */
export interface HaproxyFiles {
  /** The `haproxy` binary (a name on PATH or a path). */
  readonly bin: string;
  /** The rendered configuration HAProxy runs (and re-reads on each reload). */
  readonly configFile: string;
  /** The master CLI (`-S`): `show proc`, `reload`. */
  readonly masterSocket: string;
  /** The runtime API (the `stats socket` of the rendered file). */
  readonly adminSocket: string;
}

/** Where HAProxy's own output goes (one call per line it writes). */
export type HaproxyLog = (line: string) => void;

// Answers of the runtime API that mean the command was not applied.
const FAILED = /^(No such|Unknown command|Require|Invalid|Unrecognized|Missing|Permission denied|.*not found)/im;

/**
 * One HAProxy in master-worker mode: started by the sidecar (`haproxy -W
 * -S <master socket> -f <file>`) or found running through its master
 * socket. Validates files with `haproxy -c` before they replace the running
 * one, reloads through the master CLI (`reload`: the master re-executes
 * itself and the new worker takes the listening sockets over from the old,
 * so no connection is refused), and sends runtime API commands.
 *
 * @example
 * const haproxy = await Haproxy.startOrAttach(files, text, (line) => log.info(line));
 * await haproxy.runtime(['set server svc_users/s2 addr 10.0.0.8 port 3000', 'set server svc_users/s2 state ready']);
 */
export class Haproxy {
  readonly #files: HaproxyFiles;
  readonly #child: ChildProcess | undefined;
  #workerPid: number;
  #exited = false;

  private constructor(files: HaproxyFiles, child: ChildProcess | undefined, workerPid: number) {
    this.#files = files;
    this.#child = child;
    this.#workerPid = workerPid;
    child?.once('exit', () => {
      this.#exited = true;
    });
  }

  /** True when this sidecar started HAProxy (and so stops it on close). */
  get started(): boolean {
    return this.#child !== undefined;
  }

  /** The current worker's pid (it changes on each reload, and only then). */
  get workerPid(): number {
    return this.#workerPid;
  }

  /** The master's `show proc`, or undefined when no master answers on the socket. */
  static async showProc(masterSocket: string) {
    if (!existsSync(masterSocket)) return undefined;
    try {
      const proc = parseShowProc(await cliCommand(masterSocket, 'show proc', 2_000));
      return proc.master > 0 ? proc : undefined;
    } catch {
      return undefined;
    }
  }

  /** Checks a configuration with `haproxy -c`; throws `SMART_SIDECAR_INVALID_HAPROXY_CONFIG` with HAProxy's words. */
  static async validate(bin: string, file: string): Promise<void> {
    try {
      await run(bin, ['-c', '-f', file], { timeout: 10_000 });
    } catch (err) {
      const error = err as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
      if (error.code === 'ENOENT') throw haproxyMissing(bin);
      const output = `${error.stderr ?? ''}${error.stdout ?? ''}`;
      const alerts = output.split('\n').filter((line) => line.includes('[ALERT]'));
      throw invalidConfig(
        (alerts.length > 0 ? alerts : [output]).join(' ').replace(/\s+/g, ' ').trim() || error.message,
      );
    }
  }

  /**
   * Attaches to the HAProxy whose master answers on `files.masterSocket`;
   * else validates and writes `text` and starts one.
   */
  static async startOrAttach(files: HaproxyFiles, text: string | undefined, log: HaproxyLog): Promise<Haproxy> {
    const running = await Haproxy.showProc(files.masterSocket);
    const current = running?.workers[0];
    if (current) return new Haproxy(files, undefined, current.pid);
    if (text !== undefined) await Haproxy.install(files, text);
    else if (!existsSync(files.configFile)) throw haproxyStart(`no configuration at ${files.configFile}`);
    return Haproxy.#start(files, log);
  }

  /** Validates `text`, then puts it in place of the configuration file (atomically: a rename). */
  static async install(files: HaproxyFiles, text: string): Promise<void> {
    const next = `${files.configFile}.next`;
    await writeFile(next, text, { mode: 0o600 });
    await Haproxy.validate(files.bin, next);
    await rename(next, files.configFile);
  }

  static async #start(files: HaproxyFiles, log: HaproxyLog): Promise<Haproxy> {
    const child = spawn(files.bin, ['-W', '-S', `${files.masterSocket},mode,600`, '-f', files.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onLine = (chunk: Buffer) => {
      output = `${output}${chunk}`.slice(-4_000);
      for (const line of String(chunk).split('\n')) if (line.trim()) log(line.trim());
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) =>
        reject(
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? haproxyMissing(files.bin) : haproxyStart(err.message),
        ),
      );
      child.once('exit', (code, signal) => reject(haproxyStart(`exited (${code ?? signal}): ${output.trim()}`)));
    });
    failed.catch(() => {});
    const ready = (async () => {
      for (let waited = 0; waited < 10_000; waited += 50) {
        const proc = await Haproxy.showProc(files.masterSocket);
        const worker = proc?.workers[0];
        if (worker) return worker.pid;
        await sleep(50);
      }
      throw haproxyStart(`its master socket ${files.masterSocket} did not answer within 10 s`);
    })();
    try {
      const pid = await Promise.race([ready, failed]);
      return new Haproxy(files, child, pid);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /**
   * Sends runtime API commands, chained on one connection; throws
   * `SMART_SIDECAR_RUNTIME_COMMAND_FAILED` when HAProxy refused one.
   */
  async runtime(commands: readonly string[]): Promise<void> {
    if (commands.length === 0) return;
    const answer = await cliCommand(this.#files.adminSocket, commands.join('; '));
    const failed = FAILED.exec(answer);
    if (failed) throw runtimeCommandFailed(commands.join('; '), failed[0]);
  }

  /** One runtime API command's answer (`show servers state`, `show info`...). */
  query(command: string): Promise<string> {
    return cliCommand(this.#files.adminSocket, command);
  }

  /**
   * Installs `text` (validated first) and reloads: the master starts a new
   * worker on it, which takes the listeners over; the old one finishes its
   * requests and exits. Resolves once the new worker answers the runtime
   * API. On failure the previous file is put back.
   */
  async reload(text: string): Promise<void> {
    const before = await Haproxy.showProc(this.#files.masterSocket);
    if (!before) throw reloadFailed('the master does not answer');
    await Haproxy.install(this.#files, text);
    await cliCommand(this.#files.masterSocket, 'reload').catch(() => '');
    for (let waited = 0; waited < 15_000; waited += 25) {
      await sleep(25);
      const proc = await Haproxy.showProc(this.#files.masterSocket);
      if (!proc || proc.reloads <= before.reloads) continue;
      if (proc.failed > before.failed) throw reloadFailed('the new worker did not start (see HAProxy output)');
      const worker = proc.workers[0];
      if (!worker || worker.pid === this.#workerPid) continue;
      // The new worker owns the runtime API once it answers with its own pid.
      const info = await this.query('show info').catch(() => '');
      if (new RegExp(`^Pid: ${worker.pid}$`, 'm').test(info)) {
        this.#workerPid = worker.pid;
        return;
      }
    }
    throw reloadFailed('no new worker within 15 s');
  }

  /**
   * Stops HAProxy when this sidecar started it: a soft stop (SIGUSR1: stop
   * listening, finish the requests in flight), then SIGTERM after
   * `graceMs`. An HAProxy the sidecar attached to is left running.
   */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.#child;
    if (!child || this.#exited) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGUSR1');
    const timer = setTimeout(() => child.kill('SIGTERM'), graceMs);
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs + 5_000);
    await exited;
    clearTimeout(timer);
    clearTimeout(hard);
  }
}
