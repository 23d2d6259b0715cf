import { setTimeout as sleep } from 'node:timers/promises';

/** A blocking read: `index` 0 means "answer at once". */
export type BlockingRead<T> = (index: number, signal: AbortSignal) => Promise<{ data: T; index: number }>;

/** How a watch paces itself. */
export interface WatchTiming {
  /** Never start two reads closer together than this (a floor on the poll rate). */
  readonly minIntervalMs: number;
  /** Back-off after failures: full jitter between 0 and min(maxMs, baseMs x 2^failures). */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** A running watch. */
export interface Watch {
  /** Stops the watch and waits for its loop to end. */
  stop(): Promise<void>;
}

/**
 * Runs a watch loop over a blocking read: calls `onChange` with the first
 * answer and with every answer whose index moved; resets to index 0 when the
 * index goes backwards (Atlas's store was reset); backs off with full
 * jitter after failures, reporting each to `onError`.
 */
export function watchLoop<T>(
  read: BlockingRead<T>,
  timing: WatchTiming,
  onChange: (data: T, index: number) => void,
  onError: (err: unknown) => void,
): Watch {
  const controller = new AbortController();
  const { signal } = controller;
  const loop = (async () => {
    let index = 0;
    let failures = 0;
    let last = 0;
    while (!signal.aborted) {
      const gap = last + timing.minIntervalMs - Date.now();
      if (gap > 0) await sleep(gap, undefined, { signal }).catch(() => {});
      if (signal.aborted) break;
      last = Date.now();
      try {
        const result = await read(index, signal);
        failures = 0;
        if (result.index < index) {
          index = 0;
          onChange(result.data, result.index);
        } else if (index === 0 || result.index > index) {
          onChange(result.data, result.index);
        }
        index = result.index;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        onError(err);
        const ceiling = Math.min(timing.backoffMaxMs, timing.backoffBaseMs * 2 ** Math.min(failures, 20));
        await sleep(Math.random() * ceiling, undefined, { signal }).catch(() => {});
      }
    }
  })();
  return {
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
