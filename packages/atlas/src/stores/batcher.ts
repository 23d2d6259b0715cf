/** What one batch is given, and answers per item (same order, same length). */
export type BatchRun<In, Out> = (items: readonly In[]) => Promise<readonly Out[]>;

interface Waiting<In, Out> {
  readonly item: In;
  readonly resolve: (out: Out) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit for small writes and reads: items that arrive while the
 * previous batch is in flight (or within the same turn of the event loop)
 * go out together as one call of `run`, so a fleet's heartbeats cost one
 * statement per batch instead of one per heartbeat. One batch is in flight
 * at a time, so batches never race each other (on Postgres: they lock rows
 * in one order); under load a batch simply grows. A batch starts after
 * every item in it arrived, so a batch of reads answers each with data no
 * older than its call. With a `key`, an item whose key is already in the
 * batch waits for the next one, so a batch holds each key once. A failed
 * batch of several items is run again item by item (all at once), so an
 * item the store refuses fails alone, not the others with it.
 *
 * @example
 * const renewals = new Batcher((beats) => renewAll(beats), (beat) => beat.id, 500);
 * const renewed = await renewals.add(beat);
 */
export class Batcher<In, Out> {
  readonly #run: BatchRun<In, Out>;
  readonly #key: ((item: In) => string) | undefined;
  readonly #max: number;
  #queue: Waiting<In, Out>[] = [];
  #busy = false;
  #scheduled = false;

  /** `key`: items of the same key never share a batch (none are kept apart without it). */
  constructor(run: BatchRun<In, Out>, key?: (item: In) => string, max = 500) {
    this.#run = run;
    this.#key = key;
    this.#max = max;
  }

  /** Queues `item`; resolves with its answer once its batch ran. */
  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  // After the current turn's I/O callbacks: every request parsed in this turn joins.
  #schedule(): void {
    if (this.#busy || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#busy || this.#queue.length === 0) return;
    const batch: Waiting<In, Out>[] = [];
    const later: Waiting<In, Out>[] = [];
    const keys = new Set<string>();
    for (const waiting of this.#queue) {
      const key = this.#key?.(waiting.item);
      if (batch.length >= this.#max || (key !== undefined && keys.has(key))) later.push(waiting);
      else {
        if (key !== undefined) keys.add(key);
        batch.push(waiting);
      }
    }
    this.#queue = later;
    this.#busy = true;
    this.#settle(batch)
      .catch(() => Promise.all(batch.map((waiting) => this.#settle([waiting]).catch(() => {}))))
      .finally(() => {
        this.#busy = false;
        if (this.#queue.length > 0) this.#schedule();
      });
  }

  // Runs `batch` and answers each item; a batch of several that fails is left to the caller to split.
  async #settle(batch: readonly Waiting<In, Out>[]): Promise<void> {
    let outs: readonly Out[];
    try {
      outs = await this.#run(batch.map((waiting) => waiting.item));
    } catch (err) {
      if (batch.length > 1) throw err;
      for (const waiting of batch) waiting.reject(err);
      throw err;
    }
    batch.forEach((waiting, i) => {
      waiting.resolve(outs[i] as Out);
    });
  }
}
