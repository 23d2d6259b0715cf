import { EventEmitter } from 'node:events';
import { extname } from 'node:path';
import type { Instance } from 'atlas-client';
import type { ServiceSpec } from './discover.ts';
import { parseJsonLine } from './log-format.ts';
import { type Backoff, type ExitInfo, SupervisedProcess } from './supervised-process.ts';
import type { DevLogLine, DevService } from './types.ts';

/** The dev probe every service gets preloaded (`.ts` in the workspace, `.js` once built). */
const PROBE = new URL(`./dev-probe${extname(import.meta.filename)}`, import.meta.url).href;

/** Fastify's own line once the server listens (smart-service logs it at info). */
const LISTENING = /^Server listening at (https?:\/\/[^\s,]+)/;

export interface DevServiceOptions {
  readonly spec: ServiceSpec;
  /** The environment every service gets (the process's, smart dev's), below the manifest's. */
  readonly baseEnv: NodeJS.ProcessEnv;
  /** DevOptions.env: the caller's explicit choice, above the manifest's (a test's port 0 beats a demo's fixed port). */
  readonly overrideEnv?: Readonly<Record<string, string>>;
  readonly backoff: Backoff;
  readonly stopTimeoutMs: number;
}

/**
 * One service of a dev session: its supervised process, the URL it listens
 * on (from its "listening" line, or from its registration in Atlas when
 * that line is not logged), and whether its current process is registered.
 * The port it first got is kept across restarts, so its URL stays the same.
 *
 * Events: `line` (DevLogLine), `listening`, `exit` (ExitInfo).
 */
export class DevServiceProcess extends EventEmitter implements DevService {
  readonly name: string;
  readonly dir: string;
  readonly #spec: ServiceSpec;
  readonly #process: SupervisedProcess;
  readonly #baseEnv: NodeJS.ProcessEnv;
  readonly #overrideEnv: Readonly<Record<string, string>>;
  #url: string | undefined;
  #port: number | undefined;
  #registered = false;
  #instances: readonly Instance[] = [];

  constructor(options: DevServiceOptions) {
    super();
    this.#spec = options.spec;
    this.name = options.spec.name;
    this.dir = options.spec.dir;
    this.#baseEnv = options.baseEnv;
    this.#overrideEnv = options.overrideEnv ?? {};
    this.#process = new SupervisedProcess({
      cwd: this.dir,
      args: ['--import', PROBE, this.#spec.entry],
      env: () => this.#env(),
      backoff: options.backoff,
      stopTimeoutMs: options.stopTimeoutMs,
    });
    this.#process.on('spawn', () => {
      this.#url = undefined;
      this.#registered = false;
      this.#matchInstances();
    });
    this.#process.on('line', (text: string) => this.#onLine(text));
    this.#process.on('exit', (exit: ExitInfo) => this.#onExit(exit));
  }

  get url(): string | undefined {
    return this.#url;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get restarts(): number {
    return this.#process.restarts;
  }

  /** Listening, and this very process is registered in Atlas. */
  get ready(): boolean {
    return this.pid !== undefined && this.#url !== undefined && this.#registered;
  }

  /** Atlas instances of this service (kept for deregistering a crashed one). */
  get instances(): readonly Instance[] {
    return this.#instances;
  }

  /** When its current process started (ms since the epoch). */
  get startedAt(): number {
    return this.#process.startedAt;
  }

  /** The process's state: running, stopping, waiting (to restart after a crash), stopped. */
  get state(): string {
    return this.#process.state;
  }

  /** Asks the service's dev probe (see dev-probe.ts); undefined when it does not run or answer. */
  ask(question: { what: 'config'; key?: string }): Promise<unknown> {
    return this.#process.request({ smartDev: 'ask', ...question });
  }

  start(): void {
    this.#process.start();
  }

  restart(): Promise<void> {
    return this.#process.restart();
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }

  kill(): void {
    this.#process.kill();
  }

  /** The live instances Atlas knows for this service, whenever they change. */
  setInstances(instances: readonly Instance[]): void {
    this.#instances = instances;
    this.#matchInstances();
  }

  #env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...this.#baseEnv, ...this.#spec.env, ...this.#overrideEnv };
    // The port it had, so its URL survives a restart; unless the user chose one.
    if (this.#port !== undefined && env.SMART_HTTP__PORT === '0') {
      env.SMART_HTTP__PORT = String(this.#port);
    }
    return env;
  }

  #matchInstances(): void {
    const pid = this.pid;
    const mine = pid === undefined ? undefined : this.#instances.find((i) => i.metadata.pid === pid);
    this.#registered = mine !== undefined;
    if (mine && this.#url === undefined) this.#listening(mine.url.replace(/\/$/, ''));
  }

  #listening(url: string): void {
    this.#url = url;
    const port = Number(new URL(url).port);
    if (port > 0) this.#port = port;
    this.emit('listening');
  }

  #onLine(text: string): void {
    const json = parseJsonLine(text);
    this.emit('line', { service: this.name, line: text, json } satisfies DevLogLine);
    if (json && typeof json.msg === 'string' && this.#url === undefined) {
      const match = LISTENING.exec(json.msg);
      if (match?.[1]) this.#listening(match[1]);
    }
  }

  #onExit(exit: ExitInfo): void {
    // A process that died before listening may have died of its port (taken
    // meanwhile): the next start takes any free one.
    if (!exit.expected && this.#url === undefined) this.#port = undefined;
    this.#url = undefined;
    this.#registered = false;
    this.emit('exit', exit);
  }
}
