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
  /** Marks a dependency down (a transition is logged and reported once). */
  down(name: Dependency, reason: string, cause?: unknown): void;
  /** Marks a dependency up again (logged once, with how long it was down and what was refused). */
  up(name: Dependency): void;
  /** True while the dependency is known to be down. */
  isDown(name: Dependency): boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @internal Outage tracking of Redis and the database. */
    readonly dependencies: Dependencies;
  }
}

/** Settings of the tracker. */
export interface DependenciesOptions {
  /** How often a down dependency is probed, and how often the count of refused requests is logged. */
  readonly probeIntervalMs?: number;
  readonly countIntervalMs?: number;
}

interface Outage {
  readonly since: number;
  readonly reason: string;
  refused: number;
  counted: number;
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
 */
export const dependencies = fp(
  async function dependencies(app: FastifyInstance, options: DependenciesOptions) {
    const probeIntervalMs = options.probeIntervalMs ?? 500;
    const countIntervalMs = options.countIntervalMs ?? 10_000;
    const specs = new Map<Dependency, DependencySpec>();
    const outages = new Map<Dependency, Outage>();
    let closing = false;

    const stopTimers = (outage: Outage) => {
      clearInterval(outage.probe);
      clearInterval(outage.count);
    };

    const tracker: Dependencies = {
      register(name, spec) {
        specs.set(name, spec);
      },
      unavailable(err) {
        if (err instanceof DependencyUnavailableError) {
          tracker.down(err.dependency, err.reason, err);
          const outage = outages.get(err.dependency);
          if (outage) outage.refused++;
          return err;
        }
        for (const [name, spec] of specs) {
          const reason = spec.classify(err);
          if (reason === undefined) continue;
          tracker.down(name, reason, err);
          const outage = outages.get(name);
          if (outage) outage.refused++;
          return new DependencyUnavailableError(name, reason, { cause: err });
        }
        return undefined;
      },
      down(name, reason, cause) {
        if (closing || outages.has(name)) return;
        const outage: Outage = {
          since: Date.now(),
          reason,
          refused: 0,
          counted: 0,
          probe: undefined,
          count: undefined,
        };
        outages.set(name, outage);
        app.log.error({ dependency: name, reason }, `${name} unavailable`);
        const report = new DependencyUnavailableError(name, reason, { cause });
        app.reportError(report);
        const spec = specs.get(name);
        if (spec) {
          let probing = false;
          outage.probe = setInterval(() => {
            if (probing) return;
            probing = true;
            spec
              .probe()
              .then(
                () => tracker.up(name),
                () => {},
              )
              .finally(() => {
                probing = false;
              });
          }, probeIntervalMs);
          outage.probe.unref();
        }
        outage.count = setInterval(() => {
          if (outage.refused === outage.counted) return;
          app.log.warn(
            { dependency: name, refused: outage.refused - outage.counted, downForMs: Date.now() - outage.since },
            `${name} still unavailable`,
          );
          outage.counted = outage.refused;
        }, countIntervalMs);
        outage.count.unref();
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
