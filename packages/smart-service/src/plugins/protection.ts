import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
// Types only: both libraries are imported when their feature is on (see below).
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type {} from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { CALLER_HEADER } from 'smart-protocol';
import { BodyTooDeepError, OverloadedError, RateLimitedError } from '../errors.ts';
import type { ServiceConfig } from '../service-config.ts';
import { ConcurrencyLimit } from './concurrency-limit.ts';
import { routeOf } from './request-context.ts';

/** What the protection plugin is made from. */
export interface ProtectionOptions {
  readonly realm: string;
  readonly shedding: ServiceConfig['protection']['shedding'];
  readonly maxJsonDepth: number;
  /** The service's Redis, for rate-limit counters shared by its instances. */
  readonly redis: Redis | undefined;
}

/** Probes and metrics are never shed nor limited: a busy instance must still say how it is. */
export function isProbeRoute(route: string): boolean {
  return route.startsWith('/health/') || route === '/metrics';
}

/** True when `request` matched a probe or `/metrics` (see isProbeRoute). */
export function isProbe(request: FastifyRequest): boolean {
  return isProbeRoute(routeOf(request) ?? '');
}

/**
 * True when `text` (JSON) nests deeper than `max` arrays/objects. A scan of
 * the raw text, before parsing: a 100,000-deep array is refused without
 * building it, and without recursion that could overflow the stack.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

// @fastify/rate-limit's two stores, by the slice we use (they ship no types of their own).
interface Store {
  incr(
    key: string,
    cb: (err: Error | null, result?: { current: number; ttl: number }) => void,
    w: number,
    max: number,
  ): void;
}
type StoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, arg?: unknown) => Store;
const require = createRequire(import.meta.url);

// Counters in Redis (shared by every instance) while Redis is up, in
// memory while it is down: an outage must not turn into 503s or waits here.
function storeFor(app: FastifyInstance, redis: Redis | undefined) {
  const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor;
  const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (
    continueExceeding: boolean,
    exponentialBackoff: boolean,
    redis: Redis,
    key: string,
  ) => Store;
  // LocalStore answers with its own record, which the limiter reads a tick
  // later: requests counted in one tick (those that waited for the limiter
  // to load, say) would all read the last count. Each gets its own copy.
  const local = new LocalStore(false, false, 5_000);
  const localIncr: Store['incr'] = (key, cb, timeWindow, max) =>
    local.incr(key, (err, result) => cb(err, result && { current: result.current, ttl: result.ttl }), timeWindow, max);
  return class SmartRateLimitStore implements Store {
    readonly #shared = redis ? new RedisStore(false, false, redis, 'smart-rate-limit:') : undefined;
    incr(key: string, cb: Parameters<Store['incr']>[1], timeWindow: number, max: number) {
      const shared = this.#shared && !app.dependencies.isDown('redis') ? this.#shared : undefined;
      if (!shared) return localIncr(key, cb, timeWindow, max);
      shared.incr(
        key,
        (err, result) => (err ? localIncr(key, cb, timeWindow, max) : cb(null, result)),
        timeWindow,
        max,
      );
    }
    child() {
      return this;
    }
  };
}

// The limit for a request's route, read from the live config on each request.
function limitFor(app: FastifyInstance, request: FastifyRequest) {
  const settings = app.config.protection.rateLimit;
  const route = settings.routes[routeOf(request) ?? ''];
  return { max: route?.max ?? settings.max, timeWindowMs: route?.timeWindowMs ?? settings.timeWindowMs };
}

type RateLimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * @fastify/rate-limit's request handler, for its store and key rules. The
 * library (with ip-address, 12 files) is imported when rate limits are first
 * enabled, at start or later from the live config, so its plugin runs
 * outside Fastify's registration (closed once the service has started), on a
 * host that keeps only the `rateLimit` decorator: its `onRoute` hook would
 * apply a route's own `config.rateLimit` (limits come from
 * `protection.rateLimit.*` here), and its request decorator only pre-shapes
 * the flag its handler sets.
 */
async function loadRateLimit(app: FastifyInstance, redis: Redis | undefined): Promise<RateLimitHook> {
  // Typed as a callback plugin; it is an async function of (instance, options).
  const plugin = (await import('@fastify/rate-limit')).fastifyRateLimit as unknown as (
    host: object,
    options: RateLimitPluginOptions,
  ) => Promise<void>;
  let decorated: (() => RateLimitHook) | undefined;
  const host = {
    hasDecorator: () => false,
    decorate: (name: string, value: unknown) => {
      if (name === 'rateLimit') decorated = value as () => RateLimitHook;
    },
    decorateRequest: () => {},
    addHook: () => {},
  };
  await plugin(host, {
    global: false,
    store: storeFor(app, redis) as never,
    // Rate-limit bookkeeping must not fail requests: on a store error, let them through.
    skipOnError: true,
    keyGenerator: (request) => {
      const caller = request.headers[CALLER_HEADER];
      return `${request.method} ${routeOf(request) ?? ''}|${typeof caller === 'string' && caller ? caller : request.ip}`;
    },
    max: (request) => limitFor(app, request).max,
    timeWindow: (request) => limitFor(app, request).timeWindowMs,
    errorResponseBuilder: (_request, context) => new RateLimitedError(context.max, context.after),
  });
  if (!decorated) throw new Error('@fastify/rate-limit did not decorate rateLimit');
  return decorated();
}

const kQueueWait = Symbol('smart.queueWait');
type Tracked = FastifyRequest & { [kQueueWait]: number };

declare module 'fastify' {
  interface FastifyInstance {
    /** The adaptive concurrency limit (`limit`, `inFlight`, `minRttMs`), when shedding is enabled. */
    readonly concurrencyLimit: ConcurrencyLimit | undefined;
  }
}

/**
 * Overload protection, registered after the probes and before the
 * service's routes:
 * - load shedding: over an adaptive limit of requests in flight, or after a
 *   wait in the event loop's queue longer than the unloaded latency allows
 *   (./concurrency-limit.ts), requests are answered at once with 503
 *   `SMART_SERVICE_OVERLOADED` and `Retry-After`; while the event loop
 *   stalls (@fastify/under-pressure, a backstop for stalls no request
 *   measures: GC, a blocking timer), too. Probes and metrics never are;
 * - rate limits (@fastify/rate-limit) per route and caller (`x-smart-caller`,
 *   else the client's IP), with limits read live from `protection.rateLimit.*`
 *   (so Atlas can change them), counted in Redis when the service has it;
 *   429 `SMART_SERVICE_RATE_LIMITED` with `Retry-After`;
 * - a JSON depth limit (`http.maxJsonDepth`): deeper bodies are refused
 *   (400 `SMART_SERVICE_BODY_TOO_DEEP`) before they are parsed.
 *
 * Shedding and rate limits share one gate of the request lifecycle, passed
 * by every request but the probes': with both off it costs a call and three checks.
 */
export const protection = fp(
  async function protection(app: FastifyInstance, options: ProtectionOptions) {
    const { shedding } = options;

    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (nestsDeeperThan(body as string, options.maxJsonDepth)) {
        done(new BodyTooDeepError(options.maxJsonDepth), undefined);
        return;
      }
      parseJson(request, body as string, done);
    });

    const limiter = shedding.enabled ? new ConcurrencyLimit(shedding) : undefined;
    app.decorate('concurrencyLimit', limiter);
    app.decorateRequest(kQueueWait, -1);
    const retryAfter = { 'retry-after': String(shedding.retryAfterSeconds) };
    if (limiter) {
      // Released when the request finishes or its client hangs up (the lifecycle's observers see both).
      app.lifecycle.observers.push((request, status, seconds) => {
        const wait = (request as Tracked)[kQueueWait];
        if (wait < 0) return;
        (request as Tracked)[kQueueWait] = -1;
        // Only answers the service made are samples: failures (a dependency down, fast or
        // slow) and hang-ups (499) would teach it a wrong unloaded latency.
        limiter.release(seconds * 1000 + wait, status < 499);
      });
      await registerStallGuard(app, shedding);
    }

    // The guard below runs the rate limit while `protection.rateLimit.enabled`,
    // a flag kept in step with the live config, so a disabled rate limit
    // costs one check. Its library is loaded at the first enable: at start,
    // before any request, or when a live change turns it on (the requests that
    // arrive while it loads wait for it, then are counted like any other).
    let limitRate: RateLimitHook | undefined;
    let loading: Promise<RateLimitHook> | undefined;
    const loadLimit = () => {
      loading ??= loadRateLimit(app, options.redis).then((hook) => {
        limitRate = hook;
        return hook;
      });
      return loading;
    };
    let rateLimited = app.config.protection.rateLimit.enabled;
    if (rateLimited) await loadLimit();
    app.smartConfig.on('change', () => {
      rateLimited = app.config.protection.rateLimit.enabled;
      if (rateLimited && !limitRate)
        loadLimit().catch((err: Error) => app.log.error({ err }, 'could not load the rate limiter'));
    });

    // A gate of the request lifecycle, for every request but the probes'.
    app.lifecycle.gates.push((request: FastifyRequest, reply: FastifyReply) => {
      if (isProbe(request)) return undefined;
      if (limiter) {
        const wait = limiter.admit(performance.now());
        if (wait < 0) return overloaded(limiter, retryAfter);
        (request as Tracked)[kQueueWait] = wait;
      }
      if (!rateLimited) return undefined;
      if (limitRate) return limitRate(request, reply);
      return loadLimit().then((hook) => hook(request, reply));
    });
  },
  {
    name: 'smart-protection',
    dependencies: ['smart-dependencies', 'smart-problem-errors', 'smart-request-lifecycle'],
  },
);

function overloaded(limiter: ConcurrencyLimit, headers: Record<string, string>): OverloadedError {
  const reason =
    limiter.inFlight >= limiter.limit
      ? `${limiter.inFlight} requests in flight, limit ${limiter.limit}`
      : `queued longer than ${Math.round(limiter.queueLimitMs * 10) / 10} ms`;
  return new OverloadedError(reason, { headers });
}

// @fastify/under-pressure: sheds while the event loop's mean delay (or
// utilisation) over a sample is over its limit, for stalls no request
// measures. The samples taken while the service starts (loading,
// compiling) say "saturated": a fresh instance would shed its first requests.
async function registerStallGuard(app: FastifyInstance, shedding: ProtectionOptions['shedding']) {
  const retryAfter = String(shedding.retryAfterSeconds);
  let armedAt = Number.POSITIVE_INFINITY;
  app.addHook('onReady', async () => {
    armedAt = Date.now() + 2 * shedding.sampleIntervalMs;
  });
  // Imported only with shedding on (it is off in the local realm and wherever it is configured off).
  const { default: underPressure } = await import('@fastify/under-pressure');
  await app.register(underPressure, {
    maxEventLoopDelay: shedding.maxEventLoopDelayMs,
    // 1 (the default) turns it off: a service at capacity is near 1, and the limit handles that.
    maxEventLoopUtilization: shedding.maxEventLoopUtilization < 1 ? shedding.maxEventLoopUtilization : 0,
    eventLoopUtilizationMode: 'interval',
    sampleInterval: shedding.sampleIntervalMs,
    retryAfter: shedding.retryAfterSeconds,
    pressureHandler: async (request, _reply, type, value) => {
      if (isProbe(request) || Date.now() < armedAt) return;
      const reason = `${type} ${typeof value === 'number' ? Math.round(value * 100) / 100 : ''}`.trim();
      throw new OverloadedError(reason, { headers: { 'retry-after': retryAfter } });
    },
  });
}
