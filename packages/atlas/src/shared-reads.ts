/** A shared read's answer, and the mark taken when it finished. */
export interface SharedAnswer<T> {
  readonly value: T;
  /** A read started after this mark began after this one had finished (see `SharedReads.read`). */
  readonly doneMark: number;
}

/**
 * Reads shared by callers that need the same data no older than a point in
 * time: when one config write wakes 200 blocking queries, they need one
 * index read and one config read between them, not 200 of each.
 *
 * Time is counted in marks: `mark()` is the number of reads started so far,
 * so a read numbered above a caller's mark started after the caller took
 * it, and sees every write that had committed by then. `read(key, after,
 * fn)` joins a read of `key` still in flight only if it started after
 * `after`; otherwise it starts one. A caller woken by a write takes the
 * mark when woken, so every watcher of that wake-up shares one read, and
 * none gets data older than the write that woke it.
 *
 * @example
 * const woken = reads.mark();
 * const { value: index } = await reads.read(`index:${topic}`, woken, () => feed.index([topic]));
 */
export class SharedReads {
  #started = 0;
  readonly #inFlight = new Map<string, { readonly number: number; readonly answer: Promise<SharedAnswer<unknown>> }>();

  /** The point in time now: reads started from here on see every write committed before it. */
  mark(): number {
    return this.#started;
  }

  /** `fn`'s answer, from a read of `key` started after `after` (joined if one is in flight, else started). */
  read<T>(key: string, after: number, fn: () => Promise<T>): Promise<SharedAnswer<T>> {
    const running = this.#inFlight.get(key);
    if (running && running.number > after) return running.answer as Promise<SharedAnswer<T>>;
    const number = ++this.#started;
    const answer = new Promise<T>((resolve) => resolve(fn())).then((value) => ({ value, doneMark: this.#started }));
    const entry = { number, answer };
    this.#inFlight.set(key, entry);
    const forget = () => {
      if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
    };
    answer.then(forget, forget);
    return answer;
  }
}
