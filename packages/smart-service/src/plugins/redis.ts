import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type RedisOptions as IORedisOptions, Redis } from 'ioredis';
import { UNREACHABLE } from './dependencies.ts';
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

// What ioredis rejects a command with when Redis is not there (its messages
// are its only mark): disconnected with no offline queue, closed, no answer
// within the command timeout, out of retries.
const UNAVAILABLE = /^(Stream isn't writeable|Connection is closed|Command timed out|Reached the max retries)/;

/** Why `err` means Redis is unavailable, or undefined when it is something else (a wrong type, a script error). */
export function redisUnavailability(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(err.message)) return err.message;
  const code = (err as { code?: unknown }).code;
  // A connect error surfaced through a command (offline queue on).
  if (typeof code === 'string' && UNREACHABLE.has(code) && (err as { syscall?: unknown }).syscall === 'connect') {
    return err.message;
  }
  return undefined;
}

/** The slice of ioredis's client the fast-fail gate uses. */
interface Gated {
  readonly status: string;
  sendCommand(command: { reject(err: Error): void; promise: Promise<unknown> }, stream?: never): unknown;
}

// While Redis is known down (plugins/dependencies.ts), every command on the
// connected client is rejected at once instead of waiting for its
// commandTimeout: a hung Redis (the socket open, nothing answering) would
// otherwise park each request for the timeout. Only in status `ready`: while
// ioredis reconnects it fails commands itself (no offline queue) or queues
// them (the user asked for that), and its handshake (INFO, SELECT) must get
// through for the connection to become ready again. `sendCommand` is the one
// path every command, pipeline and transaction takes (as tracing uses it).
function failFastWhileDown(client: Gated, failFast: () => Error | undefined): void {
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    if (client.status === 'ready') {
      const refused = failFast();
      if (refused) {
        command.reject(refused);
        return command.promise;
      }
    }
    return send(command, stream);
  };
}

/**
 * An ioredis client that fails fast during an outage instead of hanging:
 * commands time out (`redis.commandTimeoutMs`), nothing queues while
 * disconnected (by default), one retry per command; a request that meets an
 * outage is answered 503 `SMART_SERVICE_DEPENDENCY_UNAVAILABLE` (see
 * plugins/dependencies.ts: logged once per outage, not per request). Once
 * an outage is known, commands fail at once (no timeout each) while a PING
 * on the probe connection checks, with back-off, for Redis's return.
 * The critical `redis` readiness check pings on a connection of its own, so
 * a flood of slow commands on the main one does not make a live instance
 * look dead.
 */
export const redis = fp(
  async function redis(app: FastifyInstance, options: RedisOptions) {
    const common: IORedisOptions = {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy,
    };
    const client = new Redis(options.url, {
      ...common,
      enableOfflineQueue: options.offlineQueue,
      keyPrefix: options.keyPrefix || undefined,
      connectionName: app.serviceInfo.name,
    });
    // Readiness and outage probes: no queue, so a down Redis fails the probe at once.
    const probeClient = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      connectionName: `${app.serviceInfo.name}:health`,
    });
    probeClient.on('error', () => {});

    const ping = async () => {
      if ((await probeClient.ping()) !== 'PONG') throw new Error('unexpected PING reply');
    };
    app.dependencies.register('redis', {
      classify: redisUnavailability,
      // Back when Redis answers and the main connection is up (else its reconnect's `ready` says so).
      probe: async () => {
        await ping();
        if (client.status !== 'ready') throw new Error(`the connection is ${client.status}`);
      },
    });
    failFastWhileDown(client as unknown as Gated, () => app.dependencies.failFast('redis'));
    let closing = false;
    // A span per command inside a traced request (its name, never its arguments).
    if (app.tracingEnabled) traceRedisCommands(client, app.tracer);
    client.on('error', (err: Error) => closing || app.dependencies.down('redis', err.message, err));
    client.on('close', () => closing || app.dependencies.down('redis', 'connection closed'));
    client.on('ready', () => app.dependencies.up('redis'));

    try {
      await Promise.all([client.connect(), probeClient.connect().catch(() => {})]);
    } catch (err) {
      // Start anyway: readiness reports Redis down, and the client keeps reconnecting.
      app.dependencies.down('redis', `at start: ${(err as Error).message}`, err);
    }

    app.decorate('redis', client);
    app.healthCheck('redis', ping);
    app.addHook('onClose', async () => {
      closing = true;
      await Promise.all([
        client.quit().catch(() => client.disconnect()),
        probeClient.quit().catch(() => probeClient.disconnect()),
      ]);
    });
  },
  { name: 'smart-redis', dependencies: ['smart-health', 'smart-dependencies'] },
);
