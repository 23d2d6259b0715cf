import type { Dispatcher } from 'undici';
import { codes, SmartClientError, unavailable } from '../errors.ts';
import type { CallOutcome, ClientEvents } from '../options.ts';
import type { Attempt, Call, Layer, Send } from './layer.ts';

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

  // No async function here: its frame and promise cost more than a `then`,
  // and without `onCall` a call that succeeds needs nothing of this layer.
  send(attempt: Attempt): Promise<Dispatcher.ResponseData> {
    const call = attempt.call;
    const onCall = this.#onCall;
    const started = onCall ? performance.now() : 0;
    let running: Promise<Dispatcher.ResponseData>;
    try {
      running = this.#next(attempt);
    } catch (err) {
      return Promise.reject(this.#failed(call, err, started));
    }
    return running.then(
      onCall
        ? (response) => {
            onCall(call.service, response.statusCode >= 500 ? 'error' : 'ok', (performance.now() - started) / 1000);
            return response;
          }
        : undefined,
      (err: unknown) => {
        throw this.#failed(call, err, started);
      },
    );
  }

  // The caller's own abort stays what it is; any other failure not already coded is the upstream's.
  #failed(call: Call, err: unknown, started: number): unknown {
    const failure =
      err instanceof SmartClientError || call.callerSignal?.aborted ? err : unavailable(call.service, err);
    this.#onCall?.(call.service, outcomeOf(failure), (performance.now() - started) / 1000);
    return failure;
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
