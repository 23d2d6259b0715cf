import { describe, expect, it } from 'vitest';
import { SharedReads } from '../src/shared-reads.ts';
import { Batcher } from '../src/stores/batcher.ts';

// The two pieces that let one Atlas serve a fleet: what they may share and
// what they may not (a watcher must never get data older than its wake-up).
describe('shared reads', () => {
  it('share one read between callers whose mark came before it started', async () => {
    const reads = new SharedReads();
    let calls = 0;
    const woken = reads.mark();
    const read = () => reads.read('config', woken, async () => ++calls);
    const answers = await Promise.all([read(), read(), read()]);
    expect(answers.map((a) => a.value)).toEqual([1, 1, 1]);
    expect(calls).toBe(1);
  });

  it('never hand a caller a read that started before its mark', async () => {
    const reads = new SharedReads();
    let release = () => {};
    const early = reads.read('config', reads.mark(), () => new Promise<string>((r) => (release = () => r('old'))));
    const late = reads.read('config', reads.mark(), async () => 'new'); // marked after `early` started
    release();
    expect([(await early).value, (await late).value]).toEqual(['old', 'new']);
  });
});

describe('batched writes', () => {
  it('answer each item of a batch with its own answer, and hold a key once per batch', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push([...items]);
        return items.map((n) => n * 10);
      },
      (n) => String(n),
    );
    const answers = await Promise.all([1, 2, 3, 2].map((n) => batcher.add(n)));
    expect(answers).toEqual([10, 20, 30, 20]);
    expect(batches).toEqual([[1, 2, 3], [2]]);
  });

  it('fail only the item the store refuses, and each item when the store is down', async () => {
    let down = false;
    const batcher = new Batcher<number, number>(async (items) => {
      if (down || items.includes(13)) throw new Error(down ? 'store down' : 'cannot hold 13');
      return items.map((n) => n);
    });
    const settled = await Promise.allSettled([11, 12, 13, 14].map((n) => batcher.add(n)));
    expect(settled.map((r) => (r.status === 'fulfilled' ? r.value : 'refused'))).toEqual([11, 12, 'refused', 14]);
    down = true;
    const failed = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    down = false;
    expect(await batcher.add(3)).toBe(3);
  });
});
