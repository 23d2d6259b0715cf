import type { Dispatcher } from 'undici';
import { deadlineExceeded } from '../errors.ts';
import type { Attempt, Call, Layer, Send } from './layer.ts';

// A deadline nearer than this gets a precise timer of its own (see below).
const PRECISE_BELOW_MS = 2_000;

function timedOut(call: Call, err: unknown): boolean {
  if (call.callerSignal?.aborted) return false;
  const code = (err as { code?: string } | undefined)?.code;
  return (
    call.deadlineSignal?.aborted === true ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    Date.now() >= call.deadline
  );
}

class Deadline {
  readonly #next: Send;
  readonly #timeoutMs: number;

  constructor(next: Send, timeoutMs: number) {
    this.#next = next;
    this.#timeoutMs = timeoutMs;
  }

  send(attempt: Attempt): Promise<Dispatcher.ResponseData> {
    const call = attempt.call;
    const now = Date.now();
    // From when the call was made: a layer above this one (a span's first call loading the
    // OpenTelemetry API, a slow layer of the caller's) does not stretch the caller's timeout.
    const deadline = Math.min(call.madeAt + (call.timeout ?? this.#timeoutMs), call.context?.deadline ?? Infinity);
    call.deadline = deadline;
    // A call whose deadline has passed fails here, before any socket opens.
    if (deadline <= now) return Promise.reject(deadlineExceeded(`before calling ${call.service}`));
    // A deadline under 2 s gets a precise timer of its own. One further off
    // rides on undici's timers (cheap, but coarse: they tick every ~0.5 s and
    // may fire up to a tick EARLY), so the transport gives undici a second of
    // slack past the deadline: a call then ends up to ~1 s after a far
    // deadline, never before it.
    if (deadline - now < PRECISE_BELOW_MS) {
      const timer = AbortSignal.timeout(Math.max(1, deadline - now));
      call.deadlineSignal = timer;
      call.signal = call.signal ? AbortSignal.any([call.signal, timer]) : timer;
    }
    let running: Promise<Dispatcher.ResponseData>;
    try {
      running = this.#next(attempt);
    } catch (err) {
      return Promise.reject(timedOut(call, err) ? deadlineExceeded(`calling ${call.service}`) : err);
    }
    // Only a failure needs this layer (a `then` without an async function's frame).
    return running.then(undefined, (err: unknown) => {
      throw timedOut(call, err) ? deadlineExceeded(`calling ${call.service}`) : err;
    });
  }
}

/**
 * Gives each call its deadline: when it was made plus its timeout (or the
 * client's `timeoutMs`), never later than the deadline of the request it runs in.
 * A call past its deadline fails at once; one still running at it is
 * aborted; both with `SMART_CLIENT_DEADLINE_EXCEEDED`.
 *
 * @example
 * const send = deadline(10_000)(next);
 */
export function deadline(timeoutMs: number): Layer {
  return function deadline(next) {
    const layer = new Deadline(next, timeoutMs);
    return (attempt) => layer.send(attempt);
  };
}
