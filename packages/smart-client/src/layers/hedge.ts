import type { Dispatcher } from 'undici';
import { type HedgeOptions, hedgeShare, type LatencyWindow } from '../hedge.ts';
import type { ClientEvents } from '../options.ts';
import type { Attempt, Layer, Send } from './layer.ts';

type Response = Dispatcher.ResponseData;
const noop = () => {};
const good = (response: Response | undefined) => response !== undefined && response.statusCode < 500;

function start(next: Send, attempt: Attempt): Promise<Response> {
  try {
    return next(attempt);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * One hedged attempt: the attempt, and a backup on another instance if it
 * has not answered after `delayMs` and the retry budget allows. The first
 * good answer (below 500) wins; the other attempt is given up (its
 * `abortReason` says why) and left to finish, its answer dropped, or
 * aborted with `cancelLoser`; if neither is good, the first to settle
 * stands. An answer before the delay stands whatever it is (the retry
 * layer judges it).
 *
 * One timer and one promise per call, no race helpers: this runs on every
 * hedged call. libuv timers have millisecond resolution and may fire up to
 * a millisecond early, which for delays of a few milliseconds (a p95 is
 * often that) would hedge far more calls than intended; an early timer is
 * re-armed for the rest of the delay. A timer that fires at or after the
 * delay decides in the next check phase, after the sockets were read (see
 * `#fire`).
 */
class Race {
  readonly #next: Send;
  readonly #window: LatencyWindow | undefined;
  readonly #events: ClientEvents | undefined;
  readonly #delayMs: number;
  readonly #share: number;
  readonly #cancelLoser: boolean;
  readonly #started = performance.now();
  readonly #attempts: Attempt[];
  readonly #controllers: AbortController[] = [];
  readonly #running: Promise<Response>[] = [];
  #resolve: (response: Response) => void = noop;
  #reject: (err: unknown) => void = noop;
  #timer: NodeJS.Timeout | undefined;
  #hedged = false;
  #decided = false;
  #sampled = false;
  #fallback: { index: number; response?: Response; error?: unknown } | undefined;
  readonly promise: Promise<Response>;

  constructor(
    next: Send,
    first: Attempt,
    delayMs: number,
    share: number,
    cancelLoser: boolean,
    window: LatencyWindow | undefined,
    events: ClientEvents | undefined,
  ) {
    this.#next = next;
    this.#window = window;
    this.#events = events;
    this.#delayMs = delayMs;
    this.#share = share;
    this.#cancelLoser = cancelLoser;
    this.#attempts = [first];
    this.promise = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#launch(0);
    if (!this.#decided) this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(delayMs)));
  }

  #launch(index: number): void {
    const attempt = this.#attempts[index] as Attempt;
    // A signal of its own only when the loser will be aborted: a controller and `AbortSignal.any` per
    // attempt cost about a microsecond, and undici adds a listener to any signal it is given.
    if (this.#cancelLoser) {
      const controller = new AbortController();
      this.#controllers[index] = controller;
      const callSignal = attempt.call.signal;
      attempt.signal = callSignal ? AbortSignal.any([callSignal, controller.signal]) : controller.signal;
    }
    const running = start(this.#next, attempt);
    this.#running[index] = running;
    running.then(
      (response) => this.#settle(index, response, undefined),
      (error: unknown) => this.#settle(index, undefined, error),
    );
  }

  #fire(): void {
    if (this.#decided) return;
    const left = this.#delayMs - (performance.now() - this.#started);
    if (left > 0) {
      this.#timer = setTimeout(() => this.#fire(), Math.ceil(left));
      return;
    }
    // Decided after the I/O already waiting: timers run before the event loop reads sockets, so a
    // timer that fires late (the client's own event loop was busy, not the instance slow) would
    // otherwise hedge attempts whose answers sit unread in their sockets. After those reads, the
    // race is decided by every answer that had arrived, and a hedge goes out only for an attempt
    // that is still waiting on its instance. (Under a stalled client this had hedged a fifth of
    // all calls, each hedge adding work to the loop that was already behind.)
    setImmediate(() => this.#hedge());
  }

  #hedge(): void {
    if (this.#decided) return;
    const first = this.#attempts[0] as Attempt;
    const call = first.call;
    // No backup into an open circuit: it would fail fast, and that failure could stand for the call.
    if (call.target.breaker?.refusing()) return;
    // Backups beyond their share of calls, then beyond the retry budget, are refused (the share first:
    // a refused backup takes no retry credit).
    if (!call.target.hedges.tryRetry(this.#share) || !call.target.budget.tryRetry()) {
      this.#events?.onBudgetExhausted?.(call.service);
      return;
    }
    this.#hedged = true;
    this.#events?.onHedge?.(call.service);
    // The backup goes to another instance: the balance layer avoids the ones this call tried.
    this.#attempts[1] = first.another('hedge');
    this.#launch(1);
  }

  #settle(index: number, response: Response | undefined, error: unknown): void {
    // The first attempt's good answers feed the percentile: a hedge's would only sample the slow calls'
    // backups, and a 5xx is often a fast failure that would pull the delay down (Finagle's
    // BackupRequestFilter records successes, timeouts and superseded requests only, for the same reason).
    if (index === 0 && good(response)) this.#sample();
    if (this.#decided) return;
    if (!this.#hedged || good(response)) this.#decide(index, response, error);
    // Neither was good: the first to settle stands.
    else if (this.#fallback) this.#decide(this.#fallback.index, this.#fallback.response, this.#fallback.error);
    else this.#fallback = response ? { index, response } : { index, error };
  }

  #sample(): void {
    if (this.#sampled) return;
    this.#sampled = true;
    this.#window?.add(performance.now() - this.#started);
  }

  #decide(index: number, response: Response | undefined, error: unknown): void {
    this.#decided = true;
    clearTimeout(this.#timer);
    const other = 1 - index;
    const loser = this.#attempts[other];
    if (loser) {
      // A first attempt that lost is still a sample: at least this slow (without it the window would
      // keep only the fast answers, and the percentile, hence the delay, would sink).
      if (other === 0) this.#sample();
      loser.abortReason = `attempt ${(this.#attempts[index] as Attempt).number} answered first`;
      // Left to finish by default (see `HedgeOptions.cancelLoser`): its instance is still working on it, so
      // the balancer keeps counting it there (p2c keeps calls away from a slow instance as it would
      // without hedging) and its keep-alive connection is not cut; the call's deadline still ends it.
      if (this.#cancelLoser) this.#controllers[other]?.abort();
      this.#running[other]?.then((late) => late.body.dump(), noop);
    }
    if (response) this.#resolve(response);
    else this.#reject(error);
  }
}

class Hedge {
  readonly #next: Send;
  readonly #options: HedgeOptions | undefined;
  readonly #events: ClientEvents | undefined;

  constructor(next: Send, options: HedgeOptions | undefined, events: ClientEvents | undefined) {
    this.#next = next;
    this.#options = options;
    this.#events = events;
  }

  send(attempt: Attempt): Promise<Response> {
    const call = attempt.call;
    const options = call.hedge === false ? undefined : (call.hedge ?? this.#options);
    if (!options || !call.retryable) return this.#next(attempt);
    call.target.hedges.request();
    const window = options.percentile === undefined ? undefined : call.target.latencies;
    const delayMs = options.delayMs ?? window?.percentile(options.percentile as number);
    if (delayMs === undefined) return this.#timed(attempt, window as LatencyWindow);
    const cancelLoser = options.cancelLoser === true;
    return new Race(this.#next, attempt, delayMs, hedgeShare(options), cancelLoser, window, this.#events).promise;
  }

  // Too few samples for a percentile yet: no hedge, but a good answer's latency counts.
  async #timed(attempt: Attempt, window: LatencyWindow): Promise<Response> {
    const started = performance.now();
    const response = await this.#next(attempt);
    if (good(response)) window.add(performance.now() - started);
    return response;
  }
}

/**
 * Hedged requests ("backup requests", after Dean and Barroso's "The Tail at
 * Scale"): for a call that may be retried and asks for it (or whose client
 * does), a backup attempt on another instance after a fixed delay or the
 * target's observed latency percentile. Backups draw on the retry budget.
 *
 * @example
 * const send = hedge({ percentile: 95 }, events)(next);
 */
export function hedge(options: HedgeOptions | undefined, events: ClientEvents | undefined): Layer {
  return function hedge(next) {
    const layer = new Hedge(next, options, events);
    return (attempt) => layer.send(attempt);
  };
}
