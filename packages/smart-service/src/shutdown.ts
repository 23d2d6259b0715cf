import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/** Timings of a graceful shutdown (the `shutdown.*` config keys). */
export interface ShutdownOptions {
  readonly drainDelayMs: number;
  readonly timeoutMs: number;
}

/**
 * The graceful shutdown sequence: readiness turns 503 at once, the
 * `preShutdown` steps run (Atlas deregistration), the service keeps serving
 * for the drain delay so load balancers stop sending, then Fastify closes:
 * it stops accepting, finishes in-flight requests, closes idle keep-alive
 * sockets, and runs every `onClose` (db, redis, config watches, Bugsnag, logs).
 * Calling it again returns the same promise.
 */
export function gracefulShutdown(app: FastifyInstance, options: ShutdownOptions, steps: (() => Promise<void>)[]) {
  let running: Promise<void> | undefined;
  return (): Promise<void> => {
    running ??= (async () => {
      app.markShuttingDown();
      app.lifecycle.closeConnections();
      for (const step of steps) {
        await step().catch((err: unknown) => app.log.warn({ err }, 'a shutdown step failed'));
      }
      if (options.drainDelayMs > 0) {
        app.log.info({ drainDelayMs: options.drainDelayMs }, 'draining before close');
        await sleep(options.drainDelayMs);
      }
      await app.close();
    })();
    return running;
  };
}

/**
 * Signal handling for a started service: SIGTERM or SIGINT runs the graceful
 * shutdown and exits 0; a second signal, or the hard timeout, exits 1 at
 * once; an uncaught exception or unhandled rejection is logged, reported,
 * and shuts down with exit code 1.
 */
export function installSignalHandlers(app: FastifyInstance, options: ShutdownOptions): () => void {
  const handlers = closeWithGrace(
    {
      delay: options.timeoutMs,
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
