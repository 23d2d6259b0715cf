import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

/** Restart back-off: doubles from `initialMs` to `maxMs`; starts again after `resetAfterMs` of uptime. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 10_000, resetAfterMs: 10_000 };

/** How one exit went. `expected` is false for a crash (an exit nobody asked for). */
export interface ExitInfo {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly expected: boolean;
  readonly uptimeMs: number;
  /** When the process starts again, if it does (crashes only). */
  readonly restartInMs: number | undefined;
}

export interface SupervisedOptions {
  readonly cwd: string;
  /** Arguments of `node` (the current executable). */
  readonly args: readonly string[];
  /** The environment; `env()` is read at each start, so a restart can change it. */
  readonly env: () => NodeJS.ProcessEnv;
  readonly backoff?: Backoff;
  /** How long a stop waits after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs?: number;
}

// Preloaded into every child: when smart dev dies without stopping its
// children (SIGKILL, a crash), the IPC channel closes and the child shuts
// itself down gracefully instead of living on as an orphan. The channel is
// unref'd so it never keeps a child alive by itself.
const GUARD = `data:text/javascript,${encodeURIComponent(
  "if(process.channel){process.once('disconnect',()=>process.kill(process.pid,'SIGTERM'));process.channel.unref()}",
)}`;

type State = 'idle' | 'running' | 'stopping' | 'waiting' | 'stopped';

/**
 * One child `node` process kept alive: restarted with back-off when it
 * crashes, restarted at once on request, stopped gracefully (SIGTERM, then
 * SIGKILL of its whole process group after a timeout).
 *
 * Events: `spawn` (pid), `line` (text, stream), `exit` (ExitInfo).
 *
 * @example
 * const p = new SupervisedProcess({ cwd, args: ['src/server.ts'], env: () => process.env });
 * p.on('line', (text) => console.log(text));
 * p.start();
 */
export class SupervisedProcess extends EventEmitter {
  readonly #options: SupervisedOptions;
  readonly #backoff: Backoff;
  #child: ChildProcess | undefined;
  #state: State = 'idle';
  #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #exited: Promise<void> = Promise.resolve();
  #restarts = 0;
  #nextRequest = 0;
  readonly #pending = new Map<number, (reply: unknown) => void>();

  constructor(options: SupervisedOptions) {
    super();
    this.#options = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#delayMs = this.#backoff.initialMs;
  }

  /** The running child's pid, if one runs. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** Starts after the first one (crash restarts and requested ones). */
  get restarts(): number {
    return this.#restarts;
  }

  /** When the running child started (ms since the epoch); 0 before the first start. */
  get startedAt(): number {
    return this.#startedAt;
  }

  get state(): State {
    return this.#state;
  }

  /** Starts the child (once; later starts go through `restart`). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#spawn();
  }

  /** Stops the child gracefully if it runs, then starts it at once (back-off reset). */
  async restart(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    clearTimeout(this.#timer);
    this.#delayMs = this.#backoff.initialMs;
    if (this.#state === 'running') await this.#terminate();
    // stop() may have come while we waited (TypeScript cannot see the await change it).
    if ((this.#state as State) === 'stopped') return;
    this.#restarts += 1;
    this.#spawn();
  }

  /** Stops for good: SIGTERM, then SIGKILL after `stopTimeoutMs`. Idempotent. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    const previous = this.#state;
    this.#state = 'stopped';
    // While 'stopping' (a restart) SIGTERM was sent already: a second one
    // would make a smart service exit at once instead of gracefully.
    if (previous === 'running') await this.#terminate();
    await this.#exited;
  }

  /** Kills the child's process group at once (a second Ctrl-C). Synchronous, for exit handlers. */
  kill(): void {
    clearTimeout(this.#timer);
    this.#state = 'stopped';
    // Only a child that still runs: the pid of one long gone may be someone else's by now.
    const pid = this.pid;
    if (pid) killGroup(pid, 'SIGKILL');
  }

  /**
   * Asks the running child something over its IPC channel (the dev probe
   * answers `{ smartDev: 'reply', id, result }`); undefined when no child
   * runs or it does not answer within `timeoutMs`.
   */
  request(message: Record<string, unknown>, timeoutMs = 2_000): Promise<unknown> {
    const child = this.#child;
    if (!child?.connected || this.pid === undefined) return Promise.resolve(undefined);
    const id = ++this.#nextRequest;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(reply);
      });
      try {
        child.send({ ...message, id });
      } catch {
        this.#pending.get(id)?.(undefined);
      }
    });
  }

  #spawn(): void {
    const child = spawn(process.execPath, ['--import', GUARD, ...this.#options.args], {
      cwd: this.#options.cwd,
      env: this.#options.env(),
      // Its own process group: a Ctrl-C in the terminal reaches smart dev
      // only, which then stops each child once, gracefully (a service that
      // got the terminal's SIGINT and then ours would take the second as
      // "exit at once"). The group also lets a stuck child be killed with
      // everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.#child = child;
    this.#state = 'running';
    this.#startedAt = Date.now();
    let done: () => void = () => {};
    this.#exited = new Promise((resolve) => {
      done = resolve;
    });
    // The channel is for the guard's disconnect and the dev probe's answers: never keep our loop alive for it.
    child.channel?.unref();
    child.on('message', (message: { smartDev?: string; id?: number; result?: unknown }) => {
      if (message?.smartDev === 'reply' && typeof message.id === 'number')
        this.#pending.get(message.id)?.(message.result);
    });
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      if (stream)
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => this.emit('line', text, name));
    }
    let failedToStart = false;
    // 'on', not 'once': a later 'error' (a failed kill) must not go unhandled and take smart dev down.
    child.on('error', (err) => {
      this.emit('line', `${child.pid === undefined ? 'could not start' : 'process error'}: ${err.message}`, 'stderr');
      // Spawning itself failed (no such cwd): report it like a crash, once.
      if (child.pid === undefined && !failedToStart) {
        failedToStart = true;
        this.#onExit(child, 1, null, done);
      }
    });
    child.once('exit', (code, signal) => {
      // Whatever the child left behind in its group (workers it spawned) goes with it.
      if (child.pid) killGroup(child.pid, 'SIGKILL');
      // Report the exit after its last lines (a crash's stack trace), which
      // arrive until the pipes close; a pipe some stray process still holds
      // open must not hold up the restart.
      let reported = false;
      const report = () => {
        if (reported) return;
        reported = true;
        clearTimeout(late);
        this.#onExit(child, code, signal, done);
      };
      const late = setTimeout(report, 2_000);
      child.once('close', report);
    });
    if (child.pid !== undefined) this.emit('spawn', child.pid);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, done: () => void): void {
    const uptimeMs = Date.now() - this.#startedAt;
    const expected = this.#state === 'stopping' || this.#state === 'stopped' || this.#child !== child;
    let restartInMs: number | undefined;
    if (!expected) {
      // A service that stayed up a while crashed for a new reason: start the back-off over.
      if (uptimeMs >= this.#backoff.resetAfterMs) this.#delayMs = this.#backoff.initialMs;
      restartInMs = this.#delayMs;
      this.#delayMs = Math.min(this.#delayMs * 2, this.#backoff.maxMs);
      this.#state = 'waiting';
      this.#timer = setTimeout(() => {
        this.#restarts += 1;
        this.#spawn();
      }, restartInMs);
    }
    if (this.#child === child && this.#state !== 'waiting' && this.#state !== 'stopped') this.#state = 'idle';
    this.emit('exit', { pid: child.pid ?? 0, code, signal, expected, uptimeMs, restartInMs } satisfies ExitInfo);
    done();
  }

  async #terminate(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (this.#state !== 'stopped') this.#state = 'stopping';
    const exited = this.#exited;
    // A child that exited on its own a moment ago is not reported until its
    // pipes close: wait for that too, so it is not reported as a crash (and
    // restarted a second time) after the new one started.
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timeout = setTimeout(() => {
      if (child.pid) killGroup(child.pid, 'SIGKILL');
    }, this.#options.stopTimeoutMs ?? 10_000);
    await exited;
    clearTimeout(timeout);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
