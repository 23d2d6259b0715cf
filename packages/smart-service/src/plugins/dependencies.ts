import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Dependency, DependencyUnavailableError } from '../errors.ts';

/** What a dependency plugin (redis, db) tells the tracker about itself. */
export interface DependencySpec {
  /** The error means this dependency is unavailable (not a bad query or a bug): its reason, else undefined. */
  readonly classify: (err: unknown) => string | undefined;
  /** Resolves when the dependency answers again (a readiness probe on its own connection). */
  readonly probe: () => Promise<unknown>;
}

/** Outages of the service's dependencies: one place that knows which are down and says so once. */
export interface Dependencies {
  /** Registers a dependency (the redis and db plugins do). */
  register(name: Dependency, spec: DependencySpec): void;
  /** The 503 to answer with when `err` is a dependency's unavailability (and counts it), else undefined. */
  unavailable(err: unknown): DependencyUnavailableError | undefined;
  /**
   * Marks a dependency down (a transition is logged and reported once) and
   * probes it at once; once a probe fails as an outage would, calls to it
   * fail fast until a probe succeeds.
   */
  down(name: Dependency, reason: string, cause?: unknown): void;
  /** Marks a dependency saturated (a full pool): logged like an outage, but calls still wait their turn. */
  busy(name: Dependency, reason: string): void;
  /** Marks a dependency up again (logged once, with how long it was down and what was refused). */
  up(name: Dependency): void;
  /** True while the dependency is known to be down or saturated. */
  isDown(name: Dependency): boolean;
  /**
   * The error a call to the dependency should fail with at once, without
   * going near it, while a probe has confirmed it down; else undefined.
   */
  failFast(name: Dependency): DependencyUnavailableError | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @internal Outage tracking of Redis and the database. */
    readonly dependencies: Dependencies;
  }
}

/** Settings of the tracker (the `dependencies.*` config keys). */
export interface DependenciesOptions {
  /** Calls to a dependency known down fail at once (default true); false: each waits its own timeout. */
  readonly failFast?: boolean;
  /** The wait before the second probe of a down dependency (the first runs at once); doubles after each failure. */
  readonly probeIntervalMs?: number;
  /** The longest wait between probes. */
  readonly probeMaxIntervalMs?: number;
  /** How often the count of refused requests is logged. */
  readonly countIntervalMs?: number;
}

interface Outage {
  readonly since: number;
  readonly reason: string;
  /** Began as a saturated pool, not a failure. */
  readonly busy: boolean;
  /** A probe failed as an outage would: calls fail fast. */
  confirmed: boolean;
  refused: number;
  counted: number;
  /** The wait before the next probe. */
  delay: number;
  probing: boolean;
  probe: NodeJS.Timeout | undefined;
  count: NodeJS.Timeout | undefined;
}

/**
 * Turns Redis and database unavailability into one story per outage instead
 * of one stack per request: the first failure logs an error line and sends
 * one Bugsnag report; while it lasts, requests that meet it are answered 503
 * (`SMART_SERVICE_DEPENDENCY_UNAVAILABLE`) and counted, and the count is
 * logged at most every `countIntervalMs`; the dependency is probed on its
 * own connection until it answers, and its return is logged once.
 *
 * While a dependency is known down, calls to it fail fast: the redis and db
 * plugins ask `failFast()` before sending anything, so a hung Redis costs a
 * request microseconds instead of its command timeout, and only the probe
 * goes near it (at once, then with back-off from `probeIntervalMs` to
 * `probeMaxIntervalMs`); the first probe that succeeds ends the outage. A
 * circuit breaker keyed to the outage: open while down, the probe its
 * half-open trial, closed again on its success. "Known" means the probe,
 * on a connection of its own, failed as an outage would (refused, timed
 * out, closed): a request's failure alone opens the outage (the log line,
 * the report, the 503 for that request) but not the fast failure, since
 * one terminated backend or one slow command says little of the next
 * connection, and the first probe, sent at once, ends such an outage
 * within a round trip. Why not opossum (or any
 * breaker library): a breaker wraps one function and learns "down" from a
 * failure rate over calls, so it would need wrapping every ioredis command
 * and Kysely query, and would keep a second, disagreeing idea of "down"
 * beside this one, which the logs, Bugsnag, readiness and the rate limiter
 * (protection.ts) already read. Here "down" is decided by what the driver
 * says (a refused, closed or timed-out connection), once on a request and
 * once more on the probe's own connection, with no window of calls to fill
 * (each such failure already cost a timeout), and trial calls are a PING or
 * a `select 1` on the probe's connection, never a user's request. A
 * saturated pool is `busy`: logged the same, but not failed fast unless its
 * probe fails as an outage (a busy pool's queries are answered, just late;
 * the acquire timeout bounds the wait).
 */
export const dependencies = fp(
  async function dependencies(app: FastifyInstance, options: DependenciesOptions) {
    const failFast = options.failFast ?? true;
    const probeIntervalMs = options.probeIntervalMs ?? 250;
    const probeMaxIntervalMs = Math.max(probeIntervalMs, options.probeMaxIntervalMs ?? 2_000);
    const countIntervalMs = options.countIntervalMs ?? 10_000;
    const specs = new Map<Dependency, DependencySpec>();
    const outages = new Map<Dependency, Outage>();
    let closing = false;

    const stopTimers = (outage: Outage) => {
      clearTimeout(outage.probe);
      clearInterval(outage.count);
      outage.probe = undefined;
    };

    // One probe at a time; the next after a doubling wait. A probe that fails
    // as an outage would (refused, timed out; not "the pool is still
    // exhausted") confirms it: from then on calls fail fast.
    const probe = (name: Dependency, outage: Outage) => {
      const spec = specs.get(name);
      if (!spec || closing || outage.probing || outages.get(name) !== outage) return;
      clearTimeout(outage.probe);
      outage.probe = undefined;
      outage.probing = true;
      Promise.resolve()
        .then(spec.probe)
        .then(
          () => tracker.up(name),
          (err: unknown) => {
            if (outage.confirmed || outages.get(name) !== outage) return;
            const reason = spec.classify(err);
            if (reason === undefined) return;
            outage.confirmed = true;
            if (failFast)
              app.log.warn({ dependency: name, reason }, `${name} down: failing fast until a probe succeeds`);
          },
        )
        .finally(() => {
          outage.probing = false;
          if (closing || outages.get(name) !== outage) return;
          outage.probe = setTimeout(() => probe(name, outage), outage.delay);
          outage.probe.unref();
          outage.delay = Math.min(outage.delay * 2, probeMaxIntervalMs);
        });
    };

    const open = (name: Dependency, reason: string, busy: boolean, cause: unknown) => {
      const outage: Outage = {
        since: Date.now(),
        reason,
        busy,
        confirmed: false,
        refused: 0,
        counted: 0,
        delay: probeIntervalMs,
        probing: false,
        probe: undefined,
        count: undefined,
      };
      outages.set(name, outage);
      app.log.error({ dependency: name, reason, ...(busy ? { busy } : {}) }, `${name} unavailable`);
      app.reportError(new DependencyUnavailableError(name, reason, { cause }));
      outage.count = setInterval(() => {
        if (outage.refused === outage.counted) return;
        app.log.warn(
          { dependency: name, refused: outage.refused - outage.counted, downForMs: Date.now() - outage.since },
          `${name} still unavailable`,
        );
        outage.counted = outage.refused;
      }, countIntervalMs);
      outage.count.unref();
      // A first probe at once: it confirms the outage, or ends it within a round trip.
      probe(name, outage);
    };

    // Errors failFast() made: they count as refused, but never reopen an outage a probe just closed.
    const fastFailed = new WeakSet<DependencyUnavailableError>();
    const refuse = (name: Dependency, err: DependencyUnavailableError) => {
      const outage = outages.get(name);
      if (outage) outage.refused++;
      return err;
    };

    const tracker: Dependencies = {
      register(name, spec) {
        specs.set(name, spec);
      },
      unavailable(err) {
        if (err instanceof DependencyUnavailableError) {
          if (fastFailed.has(err)) return refuse(err.dependency, err);
          if (err.busy) tracker.busy(err.dependency, err.reason);
          else tracker.down(err.dependency, err.reason, err);
          return refuse(err.dependency, err);
        }
        for (const [name, spec] of specs) {
          const reason = spec.classify(err);
          if (reason === undefined) continue;
          tracker.down(name, reason, err);
          return refuse(name, new DependencyUnavailableError(name, reason, { cause: err }));
        }
        return undefined;
      },
      down(name, reason, cause) {
        if (closing || outages.has(name)) return;
        open(name, reason, false, cause);
      },
      busy(name, reason) {
        if (closing || outages.has(name)) return;
        open(name, reason, true, undefined);
      },
      up(name) {
        const outage = outages.get(name);
        if (!outage) return;
        outages.delete(name);
        stopTimers(outage);
        app.log.info(
          { dependency: name, downForMs: Date.now() - outage.since, refused: outage.refused },
          `${name} available again`,
        );
      },
      isDown: (name) => outages.has(name),
      failFast(name) {
        if (!failFast) return undefined;
        const outage = outages.get(name);
        if (!outage?.confirmed) return undefined;
        const err = new DependencyUnavailableError(
          name,
          `down since ${outage.since}: failing fast until a probe succeeds`,
        );
        fastFailed.add(err);
        return err;
      },
    };
    app.decorate('dependencies', tracker);
    app.addHook('onClose', async () => {
      closing = true;
      for (const outage of outages.values()) stopTimers(outage);
    });
  },
  { name: 'smart-dependencies', dependencies: ['smart-bugsnag'] },
);

/** True when `err` (or its cause) is a Node socket error of this kind on that port. */
export function isSocketErrorOn(err: unknown, port: number, codes: ReadonlySet<string>): boolean {
  const e = err as { code?: unknown; port?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && codes.has(e.code) && (e.port === undefined || e.port === port)) return true;
  return e.cause !== undefined && e.cause !== err && isSocketErrorOn(e.cause, port, codes);
}

/** Socket error codes that mean "the other side is not there". */
export const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
