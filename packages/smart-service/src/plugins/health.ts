import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { InvalidServiceOptionError } from '../errors.ts';

/** A readiness check: resolves when healthy, throws (or rejects) when not. */
export type HealthCheckFn = () => unknown | Promise<unknown>;

/** Options of a readiness check. */
export interface HealthCheckOptions {
  /** A failing critical check turns readiness 503. Default true. */
  readonly critical?: boolean;
  /** The check fails when it takes longer. Default `health.timeoutMs`. */
  readonly timeoutMs?: number;
}

/** One check's outcome, as `GET /health/ready` reports it. */
export interface CheckResult {
  readonly status: 'ok' | 'fail';
  readonly critical: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

/** The body of `GET /health/ready`. */
export interface ReadinessReport {
  readonly status: 'ok' | 'fail' | 'shutting-down';
  readonly checks: Readonly<Record<string, CheckResult>>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Registers a readiness check, run on each `GET /health/ready`.
     *
     * @example
     * app.healthCheck('payments-api', () => client.get('service://payments/health/live'), { critical: false });
     */
    healthCheck(name: string, check: HealthCheckFn, options?: HealthCheckOptions): void;
  }
}

interface Check {
  readonly run: HealthCheckFn;
  readonly critical: boolean;
  readonly timeoutMs: number;
}

async function runCheck(check: Check): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${check.timeoutMs} ms`)), check.timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(check.run), timeout]);
    return { status: 'ok', critical: check.critical, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { status: 'fail', critical: check.critical, latencyMs: Math.round(performance.now() - started), error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /health/live` (the process answers) and `GET /health/ready` (every
 * check, run at once, each with its status and latency; 503 when a critical
 * check fails or the service is shutting down: plugins/graceful-shutdown.ts
 * owns that state).
 */
export const health = fp(
  async function health(app: FastifyInstance, options: { timeoutMs: number }) {
    const checks = new Map<string, Check>();

    app.decorate('healthCheck', (name: string, run: HealthCheckFn, opts: HealthCheckOptions = {}) => {
      if (!name || checks.has(name))
        throw new InvalidServiceOptionError(`health check "${name}" is unnamed or registered twice`);
      checks.set(name, { run, critical: opts.critical ?? true, timeoutMs: opts.timeoutMs ?? options.timeoutMs });
    });

    // Probes come every few seconds: keep them out of the access log.
    app.get('/health/live', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

    app.get('/health/ready', { logLevel: 'warn' }, async (_request, reply) => {
      const names = [...checks.keys()];
      const results = await Promise.all([...checks.values()].map(runCheck));
      const report: Record<string, CheckResult> = {};
      names.forEach((name, i) => {
        report[name] = results[i] as CheckResult;
      });
      const failed = results.some((result) => result.status === 'fail' && result.critical);
      const status = app.shuttingDown ? 'shutting-down' : failed ? 'fail' : 'ok';
      return reply.code(status === 'ok' ? 200 : 503).send({ status, checks: report } satisfies ReadinessReport);
    });
  },
  { name: 'smart-health', dependencies: ['smart-graceful-shutdown'] },
);
