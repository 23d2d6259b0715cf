import { resolve } from 'node:path';
import { createSmartService, type SmartServiceOptions } from 'smart-service';

/** The first attempt's own timeout, as the exercise sets it. */
export const FIRST_ATTEMPT_MS = 300;

type Work = { time: number; slow: boolean };

/**
 * api: `GET /api/smart?timeout=<ms>`. One call to the simulator with a
 * 300 ms timeout; if it fails or is slow, two more at once, the first good
 * answer wins and the other is cancelled. Answers 200 `{ time, api }` or a
 * 503 problem, within `timeout`.
 *
 * (smart-client's own `hedge` option sends one backup after a delay; the
 * exercise asks for two at once after a failed or slow first, so the
 * strategy is spelled out here with the client's timeouts and signals.)
 */
export async function build(options: Partial<SmartServiceOptions> = {}) {
  const app = await createSmartService({
    name: 'api',
    version: '1.0.0',
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });

  const work = (timeout: number, signal?: AbortSignal) =>
    app.client.get<Work>('service://simulator/api/work', { timeout, hedge: false, ...(signal ? { signal } : {}) });

  app.get('/api/smart', async (request) => {
    const raw = (request.query as { timeout?: string }).timeout;
    if (raw === undefined || !/^\d{1,7}$/.test(raw) || Number(raw) < 1) {
      throw Object.assign(
        new Error(`timeout must be a positive whole number of ms, not ${JSON.stringify(raw ?? null)}`),
        {
          statusCode: 400,
          code: 'SMART_API_BAD_TIMEOUT',
        },
      );
    }
    const timeout = Number(raw);
    const started = performance.now();
    const deadline = Date.now() + timeout;
    const answer = (api: Work) => ({ time: Math.round(performance.now() - started), api });

    try {
      return answer(await work(Math.min(FIRST_ATTEMPT_MS, timeout)));
    } catch (err) {
      request.log.info({ err: (err as Error).message }, 'first attempt failed or was slow: two more at once');
    }
    const left = deadline - Date.now();
    if (left > 0) {
      const controllers = [new AbortController(), new AbortController()];
      try {
        const api = await Promise.any(controllers.map((c) => work(left, c.signal)));
        return answer(api);
      } catch {
        // both failed: below
      } finally {
        for (const c of controllers) c.abort(); // the loser, if still running, is cancelled
      }
    }
    throw Object.assign(new Error(`no good answer from the simulator within ${timeout} ms`), {
      statusCode: 503,
      code: 'SMART_API_UPSTREAM_UNAVAILABLE',
      report: false,
    });
  });
  return app;
}
