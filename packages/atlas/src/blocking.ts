import type { FastifyReply, FastifyRequest } from 'fastify';
import { SharedReads } from './shared-reads.ts';
import type { AtlasStore } from './store.ts';

export const INDEX_HEADER = 'x-atlas-index';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };

/** `30s`, `500ms`, `2m` or a bare number of seconds (Consul's forms) to milliseconds. */
export function parseWait(text: string): number | undefined {
  const match = /^(\d{1,7})(ms|s|m)?$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (UNITS[match[2] ?? 's'] as number);
}

/** The query string a blocking read accepts. */
export const blockingQuerySchema = {
  type: 'object',
  properties: {
    index: { type: 'integer', minimum: 0 },
    wait: { type: 'string', pattern: '^\\d{1,7}(ms|s|m)?$' },
  },
} as const;

interface BlockingOptions {
  readonly store: AtlasStore;
  readonly maxWaitMs: number;
}

/**
 * Per store: the blocking queries waiting, by topic (a write wakes only its
 * own topic's, not every waiting query in turn), and the reads they share.
 */
class Waiters {
  readonly reads = new SharedReads();
  readonly #byTopic = new Map<string, Set<() => void>>();

  constructor(store: AtlasStore) {
    // For the store's life: the store's close drops its listeners.
    store.feed.onChange((topic) => {
      const waiting = this.#byTopic.get(topic);
      if (waiting) for (const wake of [...waiting]) wake();
    });
  }

  /** Calls `wake` when one of `topics` changes; returns a function that stops it. */
  on(topics: readonly string[], wake: () => void): () => void {
    for (const topic of topics) {
      const waiting = this.#byTopic.get(topic) ?? new Set();
      this.#byTopic.set(topic, waiting);
      waiting.add(wake);
    }
    return () => {
      for (const topic of topics) {
        const waiting = this.#byTopic.get(topic);
        waiting?.delete(wake);
        if (waiting?.size === 0) this.#byTopic.delete(topic);
      }
    };
  }
}

const waitersOf = new WeakMap<AtlasStore, Waiters>();
function waiters(store: AtlasStore): Waiters {
  const found = waitersOf.get(store) ?? new Waiters(store);
  waitersOf.set(store, found);
  return found;
}

// Resolves when one of the watched topics changes (with the mark taken
// then: reads started after it see that change), the time runs out or the
// client goes away (with undefined); `cancel()` releases the timer and
// listeners early. (The response's 'close' before we answer means the
// client went away; the request's own 'close' fires as soon as its body is read.)
function changeOf(hub: Waiters, topics: readonly string[], ms: number, reply: FastifyReply) {
  let cancel = (_woken?: number) => {};
  const quiesce = reply.server.atlasQuiesce as AbortSignal | undefined;
  const promise = new Promise<number | undefined>((resolve) => {
    const timer = setTimeout(() => cancel(), ms);
    const off = hub.on(topics, () => cancel(hub.reads.mark()));
    const onClose = () => cancel();
    reply.raw.once('close', onClose);
    quiesce?.addEventListener('abort', onClose);
    cancel = (woken) => {
      clearTimeout(timer);
      off();
      reply.raw.off('close', onClose);
      quiesce?.removeEventListener('abort', onClose);
      resolve(woken);
    };
  });
  return { promise, cancel: () => cancel() };
}

/**
 * A read with Consul's blocking semantics: with `?index=N`, answer at once
 * if the data's index is past N, else when one of `topics` changes or
 * `wait` (capped, plus up to 1/16 jitter so watchers do not return in step)
 * runs out. The index goes out in `X-Atlas-Index` (never below 1).
 *
 * `share` names what `read` answers (the route, its parameters and whatever
 * of the caller it depends on): the queries one write wakes then make one
 * index read and one `read` between them (see `SharedReads`), each still
 * answered with data no older than the index it is given.
 */
export async function blockingRead<T>(
  options: BlockingOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  topics: readonly string[],
  read: () => Promise<T>,
  share?: string,
): Promise<T | string> {
  const query = request.query as { index?: number; wait?: string };
  const hub = waiters(options.store);
  const indexKey = `index:${topics.join(' ')}`;
  // Indexes on the wire are the store's plus one: a topic never written to
  // (store index 0) answers 1, and its first write (store index 1) answers 2.
  // Without the shift both answered 1, and a watcher that started before the
  // first write slept through it (every first registration in a fresh Atlas).
  // `after`: a read started after this mark will do (a fresh one: now).
  const wire = async (after = hub.reads.mark()) => {
    const answer = await hub.reads.read(indexKey, after, () => options.store.feed.index(topics));
    return { index: answer.value + 1, doneMark: answer.doneMark };
  };
  let current = await wire();
  if (query.index !== undefined && current.index <= query.index) {
    const wanted = query.wait === undefined ? options.maxWaitMs : (parseWait(query.wait) ?? options.maxWaitMs);
    const capped = Math.min(wanted, options.maxWaitMs);
    const jitter = Math.floor(Math.random() * (capped / 16));
    // Wait until the index moves past the one asked for, or the time is up;
    // a wake-up that did not move it (another topic's write, a lost race) waits on.
    const deadline = Date.now() + capped + jitter;
    let gone = false;
    reply.raw.once('close', () => {
      gone = true;
    });
    const quiescing = () => (reply.server.atlasQuiesce as AbortSignal | undefined)?.aborted === true;
    while (current.index <= query.index && Date.now() < deadline && !gone && !quiescing()) {
      // Subscribe first, then look again (a fresh read): a write that landed in between returns at once.
      const change = changeOf(hub, topics, deadline - Date.now(), reply);
      current = await wire();
      if (current.index > query.index) {
        change.cancel();
        break;
      }
      // Woken by a change: any read started since it was seen will do (the watchers it woke share one).
      current = await wire(await change.promise);
    }
  }
  // The data is read after the index was: never older than the index it goes out with.
  if (share === undefined) {
    const data = await read();
    reply.header(INDEX_HEADER, String(current.index));
    return data;
  }
  // Shared, and serialised once for all who share it (Fastify sends a JSON string as it is).
  const body = await hub.reads.read(share, current.doneMark, async () => JSON.stringify(await read()));
  reply.header(INDEX_HEADER, String(current.index)).type('application/json; charset=utf-8');
  return body.value;
}
