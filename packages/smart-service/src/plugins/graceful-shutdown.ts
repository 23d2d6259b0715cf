import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ShuttingDownError } from '../errors.ts';

/** Timings of a graceful shutdown (the `shutdown.*` config keys) and where `start()` listens. */
export interface GracefulShutdownOptions {
  readonly host: string;
  readonly port: number;
  readonly drainDelayMs: number;
  /** Past this, a signalled shutdown gives up and exits 1; requests still running are cut a little before it. */
  readonly timeoutMs: number;
}

/** A step of the shutdown, run in registration order before the drain delay (Atlas deregistration is one). */
export type ShutdownStep = () => Promise<void> | void;

declare module 'fastify' {
  interface FastifyInstance {
    /** True once shutdown has begun: readiness answers 503 and every response closes its connection. */
    readonly shuttingDown: boolean;
    /** Runs the graceful shutdown (readiness 503, steps, drain, close). Calling it again returns the same promise. */
    shutdown(): Promise<void>;
    /**
     * Registers a step run at the start of a shutdown, in registration order, before the drain delay.
     *
     * @example
     * app.onShutdown('stop the consumer', () => consumer.stop());
     */
    onShutdown(name: string, step: ShutdownStep): void;
    /** Listens on `http.host`:`http.port` and installs the signal handlers; resolves to the address. */
    start(): Promise<string>;
  }
}

// Time kept back from the hard timeout for closing Redis, the db, Atlas and flushing reports.
const reserveFor = (timeoutMs: number) => Math.min(2_000, Math.floor(timeoutMs / 4));

/**
 * The one owner of graceful shutdown. It holds the shutting-down state
 * (readiness and the request lifecycle read it), the ordered steps other
 * plugins register (`onShutdown`), the drain, and the signals:
 *
 * 1. `shuttingDown` turns true: readiness answers 503, every response from
 *    now on (in-flight ones included) carries `connection: close`;
 * 2. the registered steps run in order (Atlas deregistration);
 * 3. the service keeps serving for `drainDelayMs`, so load balancers notice;
 * 4. Fastify closes: it stops accepting, idle keep-alive sockets close, and
 *    requests in flight may finish until a little before `timeoutMs`; any
 *    still running then (a slow upload) are cut, so the process still exits
 *    0; a request arriving after this point gets a 503 problem;
 * 5. every `onClose` runs (db, Redis, config watches, Bugsnag, logs).
 *
 * SIGTERM or SIGINT runs it and exits 0; a second signal or the hard
 * timeout exits 1 at once; an uncaught exception or unhandled rejection is
 * logged, reported, and shuts down with exit code 1.
 */
export const gracefulShutdown = fp(
  async function gracefulShutdown(app: FastifyInstance, options: GracefulShutdownOptions) {
    const steps: { name: string; step: ShutdownStep }[] = [];
    let shuttingDown = false;
    let deadline: number | undefined;
    let running: Promise<void> | undefined;
    let uninstallSignals: (() => void) | undefined;

    const begin = () => {
      if (shuttingDown) return;
      shuttingDown = true;
      deadline = Date.now() + options.timeoutMs - reserveFor(options.timeoutMs);
      for (const reply of app.lifecycle.inFlight.values()) if (!reply.sent) reply.header('connection', 'close');
    };

    app.decorate('shuttingDown', { getter: () => shuttingDown });
    app.decorate('onShutdown', (name: string, step: ShutdownStep) => {
      steps.push({ name, step });
    });
    app.decorate('shutdown', () => {
      running ??= (async () => {
        begin();
        for (const { name, step } of steps) {
          await Promise.resolve()
            .then(step)
            .catch((err: unknown) => app.log.warn({ err, step: name }, 'a shutdown step failed'));
        }
        if (options.drainDelayMs > 0) {
          app.log.info({ drainDelayMs: options.drainDelayMs }, 'draining before close');
          await sleep(options.drainDelayMs);
        }
        await app.close();
      })();
      return running;
    });
    app.decorate('start', async () => {
      const address = await app.listen({ host: options.host, port: options.port });
      uninstallSignals = installSignalHandlers(app, options.timeoutMs);
      return address;
    });

    // Fastify closes its server after every other `onClose` hook: without this
    // wait the db, Redis and config watches would close under requests still in flight.
    app.addHook('preClose', async () => {
      begin();
      // After Fastify began closing, Fastify would answer with a bare JSON 503 of its own.
      app.lifecycle.refuse = () => new ShuttingDownError();
      app.server.closeIdleConnections?.();
      const { inFlight } = app.lifecycle;
      if (inFlight.size === 0) return;
      app.log.info({ inFlight: inFlight.size }, 'waiting for requests in flight');
      const left = Math.max(0, (deadline ?? Date.now()) - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<'cut'>((resolve) => {
        timer = setTimeout(() => resolve('cut'), left);
      });
      const outcome = await Promise.race([app.lifecycle.whenIdle(), cut]);
      clearTimeout(timer);
      if (outcome === 'cut' && inFlight.size > 0) {
        app.log.warn({ inFlight: inFlight.size }, 'cutting requests still running at the shutdown deadline');
        app.server.closeAllConnections?.();
      }
    });
    app.addHook('onClose', async () => {
      uninstallSignals?.();
    });
  },
  { name: 'smart-graceful-shutdown' },
);

function installSignalHandlers(app: FastifyInstance, timeoutMs: number): () => void {
  const handlers = closeWithGrace(
    {
      delay: timeoutMs,
      logger: { error: (message: string) => app.log.error(message) },
      onSecondSignal: (signal: string) => app.log.fatal({ signal }, 'second signal: exiting at once'),
      onTimeout: (delay: number) => app.log.fatal({ timeoutMs: delay }, 'shutdown timed out: exiting at once'),
    },
    async ({ signal, err }) => {
      if (err) {
        app.log.fatal({ err }, 'fatal error: shutting down');
        app.reportError(err);
      } else {
        app.log.info({ signal }, 'shutting down');
      }
      await app.shutdown();
      app.log.info('shutdown complete');
      (app.log as FastifyBaseLogger & { flush?: () => void }).flush?.();
    },
  );
  return () => handlers.uninstall();
}
