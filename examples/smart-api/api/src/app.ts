import { resolve } from 'node:path';
import { Counter } from 'prom-client';
import { createSmartService, type SmartServiceOptions, type ZodTypeProvider } from 'smart-service';
import { z } from 'zod';
import { badTimeout, upstreamUnavailable } from './errors.ts';
import { type Attempt, firstGood } from './first-good.ts';

/** The longest `timeout` accepted: a minute. */
export const MAX_TIMEOUT_MS = 60_000;

/** What the simulator answers. */
type Work = { time: number; slow: boolean };

/** The simulator's answer, as `GET /api/smart` passes it on. */
const work = z.object({ time: z.number().int(), slow: z.boolean() });

/** What an attempt's outcome counts as on `smart_api_upstream_attempts_total`. */
export function upstreamOutcome(attempt: Attempt): 'success' | 'timeout' | 'error' | 'unavailable' | 'cancelled' {
  if (attempt.outcome === 'ok') return 'success';
  if (attempt.outcome === 'timeout' || attempt.outcome === 'cancelled') return attempt.outcome;
  // An answer that was an error (the simulator's 500) is the upstream's error; no answer at all is unavailable.
  return attempt.code === 'SMART_CLIENT_REMOTE_ERROR' || attempt.code === 'SMART_CLIENT_HTTP_ERROR'
    ? 'error'
    : 'unavailable';
}

/** `timeout` from the query: required, digits only, 1 to MAX_TIMEOUT_MS; else a 400 problem. */
export function parseTimeout(raw: unknown): number {
  const text = typeof raw === 'string' ? raw : undefined;
  if (text === undefined || !/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > MAX_TIMEOUT_MS) {
    throw badTimeout(typeof raw === 'string' ? raw : Array.isArray(raw) ? raw.join(',') : undefined, MAX_TIMEOUT_MS);
  }
  return Number(text);
}

/**
 * api: `GET /api/smart?timeout=<ms>` asks the simulator (the exercise's
 * upstream) with the strategy of `firstGood`: 300 ms for a first attempt,
 * then two at once; answers 200 `{ time, api }` (time in ms) or a 503
 * problem saying what each attempt ended with, within `timeout`.
 *
 * @example
 * const app = await build();
 * await app.start(); // curl 'localhost:8000/api/smart?timeout=1000'
 */
export async function build(options: Partial<SmartServiceOptions> = {}) {
  const app = await createSmartService({
    name: 'api',
    version: '1.0.0',
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });

  // The improvement the exercise's README asked for: the upstream's outcomes as a metric.
  const outcomes = new Counter<'outcome'>({
    name: 'smart_api_upstream_attempts_total',
    help: 'Attempts at the upstream by outcome: success, timeout, error (it answered an error), unavailable (no answer), cancelled (lost the race).',
    labelNames: ['outcome'],
    registers: [app.metrics],
  });
  for (const outcome of ['success', 'timeout', 'error', 'unavailable', 'cancelled']) outcomes.inc({ outcome }, 0);
  const observe = {
    tracer: app.tracer,
    onAttempt: (attempt: Attempt) => outcomes.inc({ outcome: upstreamOutcome(attempt) }),
  };

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/smart',
    {
      schema: {
        summary: 'Asks the simulator, a second round of two attempts after 300 ms, within timeout',
        // A string here: its rules are parseTimeout's, whose 400 carries SMART_API_BAD_TIMEOUT.
        querystring: z.object({
          timeout: z
            .string()
            .optional()
            .meta({ description: `Required: the answer's deadline in whole ms, 1 to ${MAX_TIMEOUT_MS}` }),
        }),
        response: {
          200: z.object({
            time: z.number().int().meta({ description: 'ms this request took' }),
            api: work,
          }),
        },
      },
    },
    async (request) => {
      const timeout = parseTimeout(request.query.timeout);
      const started = performance.now();
      const result = await firstGood(
        (ms, signal) => app.client.get<Work>('service://simulator/api/work', { timeout: ms, signal, hedge: false }),
        timeout,
        undefined,
        observe,
      );
      if (!result.ok) throw upstreamUnavailable(timeout, result.attempts);
      if (result.attempts.length > 1) request.log.info({ attempts: result.attempts }, 'answered by a second round');
      return { time: Math.round(performance.now() - started), api: result.value };
    },
  );
  return app;
}
