import type { FastifyReply, FastifyRequest } from 'fastify';
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

// Resolves when one of the watched topics changes, the time runs out or the
// client goes away; `cancel()` releases the timer and listeners early.
// (The response's 'close' before we answer means the client went away; the
// request's own 'close' fires as soon as its body is read.)
function changeOf(store: AtlasStore, watched: ReadonlySet<string>, ms: number, reply: FastifyReply) {
  let cancel = () => {};
  const quiesce = reply.server.atlasQuiesce as AbortSignal | undefined;
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(() => cancel(), ms);
    const off = store.feed.onChange((topic) => {
      if (watched.has(topic)) cancel();
    });
    const onClose = () => cancel();
    reply.raw.once('close', onClose);
    quiesce?.addEventListener('abort', onClose);
    cancel = () => {
      clearTimeout(timer);
      off();
      reply.raw.off('close', onClose);
      quiesce?.removeEventListener('abort', onClose);
      resolve();
    };
  });
  return { promise, cancel: () => cancel() };
}

/**
 * A read with Consul's blocking semantics: with `?index=N`, answer at once
 * if the data's index is past N, else when one of `topics` changes or
 * `wait` (capped, plus up to 1/16 jitter so watchers do not return in step)
 * runs out. The index goes out in `X-Atlas-Index` (never below 1).
 */
export async function blockingRead<T>(
  options: BlockingOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  topics: readonly string[],
  read: () => Promise<T>,
): Promise<T> {
  const query = request.query as { index?: number; wait?: string };
  // Indexes on the wire are the store's plus one: a topic never written to
  // (store index 0) answers 1, and its first write (store index 1) answers 2.
  // Without the shift both answered 1, and a watcher that started before the
  // first write slept through it (every first registration in a fresh Atlas).
  const wire = async () => (await options.store.feed.index(topics)) + 1;
  let current = await wire();
  if (query.index !== undefined && current <= query.index) {
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
    while (current <= query.index && Date.now() < deadline && !gone && !quiescing()) {
      // Subscribe first, then look again: a write that landed in between returns at once.
      const change = changeOf(options.store, new Set(topics), deadline - Date.now(), reply);
      current = await wire();
      if (current <= query.index) await change.promise;
      else change.cancel();
      current = await wire();
    }
  }
  const data = await read();
  reply.header(INDEX_HEADER, String(current));
  return data;
}
