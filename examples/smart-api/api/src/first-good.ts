import { SpanStatusCode, type Tracer } from '@opentelemetry/api';

/** What became of one attempt. */
export interface Attempt {
  /** 1 for the first, 2 and 3 for the two sent together after it. */
  readonly attempt: number;
  /** `ok`; `timeout` (its time ran out); `failed` (an error answer, or no connection); `cancelled` (another won). */
  readonly outcome: 'ok' | 'timeout' | 'failed' | 'cancelled';
  readonly ms: number;
  /** The error's code, when it failed: `SMART_CLIENT_REMOTE_ERROR`, `SMART_CLIENT_UNAVAILABLE`, ... */
  readonly code?: string;
}

/** One call to the upstream, given its own timeout (ms) and a signal that cancels it. */
export type Call<T> = (timeoutMs: number, signal: AbortSignal) => Promise<T>;

/** Who is told of the attempts: a tracer for a span each, a callback for each outcome (api's metric). */
export interface FirstGoodObservers {
  readonly tracer?: Tracer;
  onAttempt?(attempt: Attempt): void;
}

/** The first attempt's time, as the exercise sets it. */
export const FIRST_ATTEMPT_MS = 300;

/** The answer, or every attempt's outcome when there was none. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: readonly Attempt[] }
  | { readonly ok: false; readonly attempts: readonly Attempt[] };

const DEADLINE = 'SMART_CLIENT_DEADLINE_EXCEEDED';

/**
 * The exercise's strategy: one attempt with `firstMs` (300 ms); if it fails
 * or runs out of time, two more at once with what is left of `budgetMs`;
 * the first good answer wins and the other attempt is cancelled (its
 * connection closed, so the upstream sees it go). Never takes longer than
 * `budgetMs`: each attempt's timeout ends by then.
 *
 * smart-client's own `hedge` option sends one backup after a delay while the
 * first keeps running; this shape (cut the first at 300 ms, then two at once)
 * is spelled out here with its per-call timeouts and abort signals.
 *
 * @example
 * const result = await firstGood((timeout, signal) => client.get(url, { timeout, signal }), 1000);
 * if (result.ok) return result.value;
 */
export async function firstGood<T>(
  call: Call<T>,
  budgetMs: number,
  firstMs = FIRST_ATTEMPT_MS,
  observe: FirstGoodObservers = {},
): Promise<Outcome<T>> {
  const deadline = Date.now() + budgetMs;
  const attempts: Attempt[] = [];
  const record = (entry: Attempt) => {
    attempts.push(entry);
    observe.onAttempt?.(entry);
  };
  const attempt = async (n: number, timeout: number, signal: AbortSignal): Promise<T> => {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const value = await call(timeout, signal);
      record({ attempt: n, outcome: 'ok', ms: ms() });
      return value;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const outcome = signal.aborted ? 'cancelled' : code === DEADLINE ? 'timeout' : 'failed';
      record({ attempt: n, outcome, ms: ms(), ...(typeof code === 'string' ? { code } : {}) });
      throw err;
    }
  };
  // Each attempt its own span (the smart client's call span is its child), saying how it ended.
  const traced = (n: number, timeout: number, signal: AbortSignal): Promise<T> => {
    const tracer = observe.tracer;
    if (!tracer) return attempt(n, timeout, signal);
    return tracer.startActiveSpan(`upstream attempt ${n}`, async (span) => {
      span.setAttributes({ 'smart_api.attempt': n, 'smart_api.timeout_ms': timeout });
      try {
        return await attempt(n, timeout, signal);
      } finally {
        const last = attempts.findLast((a) => a.attempt === n);
        if (last) {
          span.setAttribute('smart_api.outcome', last.outcome);
          if (last.code) span.setAttribute('error.type', last.code);
          // The loser of the second round: cancelled on purpose, not an error.
          if (last.outcome === 'cancelled') span.setAttribute('smart_api.cancelled', true);
          else if (last.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      }
    });
  };

  try {
    return { ok: true, value: await traced(1, Math.min(firstMs, budgetMs), new AbortController().signal), attempts };
  } catch {
    // Failed or slow: two more at once, below.
  }
  const left = deadline - Date.now();
  if (left <= 0) return { ok: false, attempts };
  const controllers = [new AbortController(), new AbortController()];
  try {
    const value = await Promise.any(controllers.map((c, i) => traced(i + 2, left, c.signal)));
    return { ok: true, value, attempts: [...attempts] };
  } catch {
    return { ok: false, attempts };
  } finally {
    // The loser, if it still runs, is cancelled now (aborting the winner changes nothing).
    for (const controller of controllers) controller.abort();
  }
}
