import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { traceRedisCommands } from './tracing-dependencies.ts';

/** Settings of the Redis client (the `redis.*` config keys). */
export interface RedisOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly offlineQueue: boolean;
  readonly keyPrefix: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The ioredis client (when the service has Redis). */
    readonly redis: Redis;
  }
}

/** Reconnect quickly at first, then every 2 s at most, forever: an outage ends some time. */
function retryStrategy(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 2_000);
}

/**
 * An ioredis client that fails fast during an outage instead of hanging:
 * commands time out, nothing queues while disconnected (by default), one
 * retry per command, and errors are logged (once per outage), never thrown
 * at the process. Registers a critical `redis` readiness check.
 */
export const redis = fp(
  async function redis(app: FastifyInstance, options: RedisOptions) {
    const client = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: options.offlineQueue,
      maxRetriesPerRequest: 1,
      keyPrefix: options.keyPrefix || undefined,
      retryStrategy,
      connectionName: app.serviceInfo.name,
    });

    // A span per command inside a traced request (its name, never its arguments).
    if (app.tracingEnabled) traceRedisCommands(client, app.tracer);
    let down = false;
    let closing = false;
    // One error line per outage, not one per reconnect attempt.
    const markDown = (reason: string, code?: string) => {
      if (closing || down) return;
      down = true;
      app.log.error({ err: { message: reason, code } }, 'redis unavailable');
    };
    client.on('error', (err: Error & { code?: string }) => markDown(err.message, err.code));
    client.on('close', () => markDown('connection closed'));
    client.on('ready', () => {
      if (down) app.log.info('redis available again');
      down = false;
    });

    try {
      await client.connect();
    } catch (err) {
      // Start anyway: readiness reports Redis down, and the client keeps reconnecting.
      markDown(`at start: ${(err as Error).message}`);
    }

    app.decorate('redis', client);
    app.healthCheck('redis', async () => {
      if ((await client.ping()) !== 'PONG') throw new Error('unexpected PING reply');
    });
    app.addHook('onClose', async () => {
      closing = true;
      await client.quit().catch(() => client.disconnect());
    });
  },
  { name: 'smart-redis', dependencies: ['smart-health'] },
);
