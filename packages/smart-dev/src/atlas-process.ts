import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { acquirePidLock } from 'smart-service';
import { DevError, devErrorCodes } from './errors.ts';
import { parseJsonLine } from './log-format.ts';
import { type Backoff, type ExitInfo, SupervisedProcess } from './supervised-process.ts';

/**
 * The `smart-atlas serve` script to run: from the services' root first (the
 * version the project installed), else from next to smart-service. Atlas is
 * built on smart-service, so smart-service cannot depend on it: it is found
 * at run time instead.
 *
 * @example
 * findAtlasBin('/code/shop'); // '/code/shop/node_modules/smart-atlas/bin/smart-atlas.ts'
 */
export function findAtlasBin(root: string, packageDir?: string): string {
  const dir = packageDir ?? findAtlasPackage(root);
  if (!dir) {
    throw new DevError(
      devErrorCodes.noAtlas,
      `smart dev runs Atlas from the smart-atlas package, which is not installed in ${root}: install it as a dev dependency (pnpm add -D smart-atlas)`,
    );
  }
  let bin: string | undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['smart-atlas'];
  } catch {
    bin = undefined;
  }
  if (!bin || !existsSync(join(dir, bin))) {
    throw new DevError(devErrorCodes.noAtlas, `${dir} has no smart-atlas executable: reinstall smart-atlas`);
  }
  return join(dir, bin);
}

function findAtlasPackage(root: string): string | undefined {
  for (const from of [join(root, 'package.json'), import.meta.filename]) {
    let entry: string;
    try {
      // Its main entry, not package.json: the package's `exports` need not list package.json.
      entry = createRequire(from).resolve('smart-atlas');
    } catch {
      continue;
    }
    for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'smart-atlas') {
        return dir;
      }
    }
  }
  return undefined;
}

/**
 * `preferred` if nothing listens on it on loopback, else a free port chosen
 * by the system (the CLI's Atlas port: 4100 when it can, another when not).
 *
 * @example
 * await portOr(4100); // 4100, or e.g. 38211 when 4100 is taken
 */
export async function portOr(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : undefined;
        server.close(() => resolve(chosen));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? 0;
}

/** The environment of the embedded Atlas: realm local, its own PGlite folder, loopback, JSON logs. */
function atlasEnv(base: NodeJS.ProcessEnv, port: number, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    SMART_REALM: 'local',
    SMART_HTTP__HOST: '127.0.0.1',
    SMART_HTTP__PORT: String(port),
    SMART_DB__EMBEDDED_DIR: dataDir,
    SMART_LOG__PRETTY: 'false',
    SMART_LOG__LEVEL: 'info',
    SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
    NODE_ENV: 'development',
  };
  // These are for the services, not for Atlas: Atlas would register in
  // itself, or use the services' database instead of its embedded one.
  for (const key of ['SMART_ATLAS_URL', 'SMART_ATLAS_TOKEN', 'SMART_DB__URL']) delete env[key];
  return env;
}

const START_TIMEOUT_MS = 60_000;
// Fastify's "plugin did not start in time" (avvio's code), and how many such starts are tried again.
const SLOW_START = /AVV_ERR_PLUGIN_EXEC_TIMEOUT/;
const SLOW_START_RETRIES = 2;
// PGlite is one process's database: a second smart dev session on the same
// folder would corrupt its Atlas. A pid file next to it keeps a second session
// out (with a clear error, before Atlas's own lock on the folder would).
function lock(dataDir: string): () => void {
  return acquirePidLock(
    `${dataDir}.lock`,
    (owner) =>
      new DevError(
        devErrorCodes.alreadyRunning,
        `smart dev already runs with the Atlas data in ${dataDir} (pid ${owner}): stop it first, or pass another atlasDataDir`,
      ),
  );
}

/** What the embedded Atlas is made of. */
export interface EmbeddedAtlasOptions {
  readonly root: string;
  /** The smart-atlas executable (see `findAtlasBin`). */
  readonly bin: string;
  /** 0 for any free port. */
  readonly port: number;
  readonly dataDir: string;
  readonly backoff: Backoff;
  readonly stopTimeoutMs: number;
}

/**
 * `smart-atlas serve` as a supervised child: realm local, PGlite under
 * `dataDir`, loopback. Restarted after a crash on the port it first got,
 * where the services already look for it.
 *
 * Events: `line` (text), `exit` (ExitInfo).
 *
 * @example
 * const atlas = new EmbeddedAtlas({ root, bin: findAtlasBin(root), port: 0, dataDir, backoff, stopTimeoutMs: 10_000 });
 * const url = await atlas.start(); // http://127.0.0.1:41234
 */
export class EmbeddedAtlas extends EventEmitter {
  readonly #options: EmbeddedAtlasOptions;
  readonly #process: SupervisedProcess;
  #port: number;
  #url = '';
  #release: (() => void) | undefined;

  constructor(options: EmbeddedAtlasOptions) {
    super();
    this.#options = options;
    this.#port = options.port;
    this.#process = new SupervisedProcess({
      cwd: options.root,
      args: [options.bin, 'serve'],
      env: () => atlasEnv(process.env, this.#port, options.dataDir),
      backoff: options.backoff,
      stopTimeoutMs: options.stopTimeoutMs,
    });
    this.#process.on('line', (text: string) => this.emit('line', text));
    this.#process.on('exit', (exit: ExitInfo) => this.emit('exit', exit));
  }

  get url(): string {
    return this.#url;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Starts it and resolves with its URL once it listens; `fail` builds the error when it exits or hangs first. */
  async start(fail: (why: string) => Error): Promise<string> {
    this.#release = lock(this.#options.dataDir);
    this.#url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(fail('did not listen within 60 s')), START_TIMEOUT_MS);
      let slowStarts = 0;
      const onLine = (text: string) => {
        if (SLOW_START.test(text)) slowStarts += 1;
        const msg = parseJsonLine(text)?.msg;
        const url = typeof msg === 'string' ? /^Server listening at (http:\/\/[^\s,]+)/.exec(msg)?.[1] : undefined;
        if (!url) return;
        clearTimeout(timer);
        this.#process.off('line', onLine).off('exit', onExit);
        resolve(url);
      };
      const onExit = (exit: ExitInfo) => {
        // Too slow to start (its database's first start and migrations outlasted Fastify's plugin
        // timeout on a loaded machine): the supervisor starts it again, and that start finds its
        // database made. Any other exit before listening (a taken port) is final.
        if (slowStarts > 0 && slowStarts <= SLOW_START_RETRIES && exit.restartInMs !== undefined) return;
        clearTimeout(timer);
        this.#process.off('line', onLine).off('exit', onExit);
        reject(fail(`exited (${exit.signal ?? `exit code ${exit.code}`}) before listening`));
      };
      this.#process.on('line', onLine).on('exit', onExit);
      this.#process.start();
    });
    this.#port = Number(new URL(this.#url).port);
    return this.#url;
  }

  async stop(): Promise<void> {
    await this.#process.stop();
    this.#unlock();
  }

  kill(): void {
    this.#process.kill();
    this.#unlock();
  }

  // Only the session that took the lock gives it back (not one that was refused).
  #unlock(): void {
    this.#release?.();
    this.#release = undefined;
  }
}
