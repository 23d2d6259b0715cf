import { codes, SmartClientError, unavailable } from '../errors.ts';
import type { CallOutcome, ClientEvents } from '../options.ts';
import type { Attempt, Layer, Send } from './layer.ts';

/** What a failed call counts as. */
function outcomeOf(failure: unknown): CallOutcome {
  const code = (failure as { code?: string }).code;
  if (code === codes.deadline) return 'deadline';
  if (
    code === codes.notAllowed ||
    code === codes.noInstances ||
    code === codes.circuitOpen ||
    code === codes.bulkheadFull
  )
    return 'refused';
  return 'unavailable';
}

class Outcome {
  readonly #next: Send;
  readonly #onCall: ClientEvents['onCall'];

  constructor(next: Send, events: ClientEvents | undefined) {
    this.#next = next;
    this.#onCall = events?.onCall?.bind(events);
  }

  async send(attempt: Attempt) {
    const call = attempt.call;
    const started = this.#onCall ? performance.now() : 0;
    try {
      const response = await this.#next(attempt);
      this.#onCall?.(call.service, response.statusCode >= 500 ? 'error' : 'ok', (performance.now() - started) / 1000);
      return response;
    } catch (err) {
      // The caller's own abort stays what it is; any other failure not already coded is the upstream's.
      const failure =
        err instanceof SmartClientError || call.callerSignal?.aborted ? err : unavailable(call.service, err);
      this.#onCall?.(call.service, outcomeOf(failure), (performance.now() - started) / 1000);
      throw failure;
    }
  }
}

/**
 * The outermost layer: what a call ended as. Reports `onCall` (target,
 * outcome, seconds) for every call, and turns an uncoded failure (a refused
 * or reset connection after the retries) into `SMART_CLIENT_UNAVAILABLE`
 * with the cause attached. The caller's own abort is rethrown as is.
 *
 * @example
 * const send = outcome(events)(next);
 */
export function outcome(events: ClientEvents | undefined): Layer {
  return function outcome(next) {
    const layer = new Outcome(next, events);
    return (attempt) => layer.send(attempt);
  };
}
